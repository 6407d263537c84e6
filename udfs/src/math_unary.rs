//! MLeap's `math_unary` op: one double in, one double out, through a `java.lang.Math`
//! function (MLeap's `MathUnaryModel`).
//!
//! The functions are Java's, not Spark SQL's: `log(-1)` is NaN and `log(0)` is `-∞` (Spark
//! SQL's `ln` returns null for both); `round` is `Math.round(double)` — the nearest long, ties
//! towards `+∞` (`-2.5 → -2`), NaN → 0, clamped to the long range — converted back to double;
//! `logit` is commons-math3's `Logit` on `[0, 1]`: `ln(x / (1 - x))`, failing outside `[0, 1]`
//! (NaN passes through as NaN).
//!
//! # Null Handling
//! A null input gives a null output, as MLeap's Spark transformer (a Spark UDF over a
//! primitive double) does. MLeap's own runtime declares the input non-nullable and fails on a
//! null with "trying to cast null to non-nullable value"; ember keeps the row instead.

use std::sync::Arc;

use arrow::array::{Array, Float64Builder};
use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::common::{ArgKind, StageRef, arrays, as_f64, fingerprint, single_arg_field};

/// The operations of MLeap's `UnaryOperation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOperation {
    /// `Math.log` (natural logarithm).
    Log,
    /// `Math.exp`.
    Exp,
    /// `Math.sqrt`.
    Sqrt,
    /// `Math.sin`.
    Sin,
    /// `Math.cos`.
    Cos,
    /// `Math.tan`.
    Tan,
    /// `Math.abs`.
    Abs,
    /// commons-math3 `Logit` on `[0, 1]`.
    Logit,
    /// `Math.floor`.
    Floor,
    /// `Math.ceil`.
    Ceil,
    /// `Math.round(double)` as a double.
    Round,
}

impl UnaryOperation {
    /// Every operation, in MLeap's naming.
    pub const ALL: [UnaryOperation; 11] = [
        Self::Log,
        Self::Exp,
        Self::Sqrt,
        Self::Sin,
        Self::Cos,
        Self::Tan,
        Self::Abs,
        Self::Logit,
        Self::Floor,
        Self::Ceil,
        Self::Round,
    ];

    /// MLeap's name for the operation (the `operation` attribute).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Log => "log",
            Self::Exp => "exp",
            Self::Sqrt => "sqrt",
            Self::Sin => "sin",
            Self::Cos => "cos",
            Self::Tan => "tan",
            Self::Abs => "abs",
            Self::Logit => "logit",
            Self::Floor => "floor",
            Self::Ceil => "ceil",
            Self::Round => "round",
        }
    }

    /// The operation named `name` (exact, as MLeap's `forName` map).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.name() == name)
    }

    /// Applies the operation; `Err` carries the message of a value the operation rejects
    /// (only `logit` outside `[0, 1]`).
    pub fn apply(&self, x: f64) -> std::result::Result<f64, String> {
        Ok(match self {
            Self::Log => x.ln(),
            Self::Exp => x.exp(),
            Self::Sqrt => x.sqrt(),
            Self::Sin => x.sin(),
            Self::Cos => x.cos(),
            Self::Tan => x.tan(),
            Self::Abs => x.abs(),
            Self::Logit => {
                // commons-math compares `x < lo || x > hi`: NaN passes (and gives NaN)
                if !x.is_nan() && !(0.0..=1.0).contains(&x) {
                    return Err(format!("{} out of [0, 1] range", java_double(x)));
                }
                (x / (1.0 - x)).ln()
            }
            Self::Floor => x.floor(),
            Self::Ceil => x.ceil(),
            Self::Round => java_round(x),
        })
    }
}

/// `Math.round(double)` converted to double: ties towards `+∞`, NaN → 0, saturating at the
/// long range.
pub fn java_round(x: f64) -> f64 {
    if x.is_nan() {
        return 0.0;
    }
    let f = x.floor();
    // x - floor(x) is exact for every finite double, so 0.49999999999999994 stays below 0.5
    let r = if x - f >= 0.5 { f + 1.0 } else { f };
    (r as i64) as f64
}

fn java_double(x: f64) -> String {
    crate::java_fmt::java_double_to_string(x)
}

/// `math_unary`: `double → double`.
#[derive(Debug)]
pub struct MathUnaryUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    column: String,
    operation: UnaryOperation,
    fingerprint: u64,
}

crate::udf_identity!(MathUnaryUdf);

impl MathUnaryUdf {
    /// A UDF named `name` applying `operation` to `column` for `stage`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        operation: UnaryOperation,
    ) -> Self {
        let fingerprint = fingerprint(|h| {
            use std::hash::Hash;
            operation.hash(h);
        });
        Self {
            name: name.into(),
            signature: Signature::any(1, Volatility::Immutable),
            stage,
            column: column.into(),
            operation,
            fingerprint,
        }
    }
}

impl ScalarUDFImpl for MathUnaryUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        single_arg_field(
            &self.name,
            &self.stage,
            &args,
            ArgKind::Double,
            DataType::Float64,
        )
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let x = as_f64(&self.name, &input[0])?;
        let mut out = Float64Builder::with_capacity(x.len());
        for row in 0..x.len() {
            if x.is_null(row) {
                out.append_null();
                continue;
            }
            let y = self
                .operation
                .apply(x.value(row))
                .map_err(|m| self.stage.error(&self.column, row, m))?;
            out.append_value(y);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::invoke;
    use arrow::array::{AsArray, Float64Array};
    use arrow::datatypes::Float64Type;

    #[test]
    fn java_semantics() {
        use UnaryOperation::*;
        assert!(Log.apply(-1.0).unwrap().is_nan());
        assert_eq!(Log.apply(0.0).unwrap(), f64::NEG_INFINITY);
        assert!(Sqrt.apply(-4.0).unwrap().is_nan());
        assert_eq!(Round.apply(-2.5).unwrap(), -2.0);
        assert_eq!(Round.apply(2.5).unwrap(), 3.0);
        assert_eq!(Round.apply(0.49999999999999994).unwrap(), 0.0);
        assert_eq!(Round.apply(f64::NAN).unwrap(), 0.0);
        assert_eq!(Round.apply(1e300).unwrap(), i64::MAX as f64);
        assert_eq!(Round.apply(f64::NEG_INFINITY).unwrap(), i64::MIN as f64);
        assert_eq!(Logit.apply(0.5).unwrap(), 0.0);
        assert_eq!(Logit.apply(1.0).unwrap(), f64::INFINITY);
        assert_eq!(Logit.apply(0.0).unwrap(), f64::NEG_INFINITY);
        assert!(Logit.apply(f64::NAN).unwrap().is_nan());
        assert!(Logit.apply(1.5).is_err());
        assert_eq!(Ceil.apply(-0.5).unwrap().to_bits(), (-0.0f64).to_bits());
        for op in UnaryOperation::ALL {
            assert_eq!(UnaryOperation::parse(op.name()), Some(op));
        }
        assert_eq!(UnaryOperation::parse("LOG"), None);
    }

    #[test]
    fn nulls_pass_and_logit_fails_with_row() {
        let input: arrow::array::ArrayRef =
            Arc::new(Float64Array::from(vec![Some(0.25), None, Some(4.0)]));
        let udf = MathUnaryUdf::new(
            "m",
            StageRef::new("m", "MathUnary"),
            "x",
            UnaryOperation::Sqrt,
        );
        let out = invoke(&udf, vec![Arc::clone(&input)]).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.value(0), 0.5);
        assert!(out.is_null(1));
        assert_eq!(out.value(2), 2.0);
        let udf = MathUnaryUdf::new(
            "m",
            StageRef::new("m", "MathUnary"),
            "x",
            UnaryOperation::Logit,
        );
        let err = invoke(&udf, vec![input]).unwrap_err();
        let e = crate::StageError::find(&err).unwrap();
        assert_eq!(e.row, 2);
        assert!(
            e.message.contains("4.0 out of [0, 1] range"),
            "{}",
            e.message
        );
    }
}
