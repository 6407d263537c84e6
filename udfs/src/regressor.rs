//! The prediction UDF of a regression model, `vector → double`, shared by linear regression
//! and the tree regressors: each model says how many features it reads and how it predicts.
//!
//! # Null Handling
//! A null features vector fails, as does a vector whose size differs from the model's (Spark
//! fails or reads out of range).

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
use crate::vector::{VectorArray, VectorRef};

/// A fitted regression model.
pub trait Regressor: Debug + Send + Sync + 'static {
    /// Number of features the model reads (the input vector size).
    fn num_features(&self) -> usize;

    /// The prediction for one feature vector of [`Self::num_features`] elements.
    fn predict(&self, x: &VectorRef<'_>) -> f64;

    /// Hashes the fitted parameters (for UDF identity).
    fn fingerprint(&self, h: &mut DefaultHasher);
}

/// A regression model's prediction: `vector → double`.
#[derive(Debug)]
pub struct RegressorUdf<M: Regressor> {
    core: ModelUdf<M>,
}

crate::udf_identity!(RegressorUdf<M: Regressor> by core);

impl<M: Regressor> RegressorUdf<M> {
    /// A UDF named `name` predicting from `column` for `stage`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        model: Arc<M>,
    ) -> Self {
        let fingerprint = fingerprint(|h| model.fingerprint(h));
        Self {
            core: ModelUdf::new(name, stage, column, model, fingerprint),
        }
    }
}

impl<M: Regressor> ScalarUDFImpl for RegressorUdf<M> {
    fn name(&self) -> &str {
        &self.core.name
    }

    fn signature(&self) -> &Signature {
        &self.core.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.core
            .return_field(&args, ArgKind::Vector, DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let va = VectorArray::try_new(input[0].as_ref())?;
        let expected = self.core.model.num_features();
        let mut out = Float64Builder::with_capacity(va.len());
        for row in 0..va.len() {
            let v = self.core.vector_row(&va, row, Some(expected))?;
            out.append_value(self.core.model.predict(&v));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
