//! The UDF of a stage that looks each string up in a fitted table and returns a number
//! (`string → double | int`): MLeap's `string_map` and `regex_indexer` ops.
//!
//! # Null Handling
//! The model decides: [`StringLookup::apply`] receives `None` for a null and may fail it.

use std::collections::hash_map::DefaultHasher;
use std::fmt::Debug;
use std::sync::Arc;

use arrow::array::PrimitiveBuilder;
use arrow::datatypes::{ArrowPrimitiveType, DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use crate::common::{ArgKind, ModelUdf, StageRef, arrays, fingerprint, for_each_str};

/// A fitted string → number lookup.
pub trait StringLookup: Debug + Send + Sync + 'static {
    /// The Arrow type of the result.
    type Output: ArrowPrimitiveType;

    /// The value for one string (`None` = null); `Err` carries the row's message.
    fn apply(
        &self,
        s: Option<&str>,
    ) -> std::result::Result<<Self::Output as ArrowPrimitiveType>::Native, String>;

    /// Hashes the fitted table (for UDF identity).
    fn fingerprint(&self, h: &mut DefaultHasher);
}

/// A lookup applied to a string column.
#[derive(Debug)]
pub struct StringLookupUdf<M: StringLookup> {
    core: ModelUdf<M>,
}

crate::udf_identity!(StringLookupUdf<M: StringLookup> by core);

impl<M: StringLookup> StringLookupUdf<M> {
    /// A UDF named `name` looking up `column` for `stage`.
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

impl<M: StringLookup> ScalarUDFImpl for StringLookupUdf<M> {
    fn name(&self) -> &str {
        &self.core.name
    }

    fn signature(&self) -> &Signature {
        &self.core.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(M::Output::DATA_TYPE)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.core
            .return_field(&args, ArgKind::String, M::Output::DATA_TYPE)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let mut out = PrimitiveBuilder::<M::Output>::with_capacity(input[0].len());
        for_each_str(&self.core.name, &input[0], |row, v| {
            let y = self
                .core
                .model
                .apply(v)
                .map_err(|m| self.core.error(row, m))?;
            out.append_value(y);
            Ok(())
        })?;
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
