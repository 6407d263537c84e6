//! MLeap's `math_binary` op: two doubles in (each a column, or a fixed default when its port
//! is absent), one double out (MLeap's `MathBinaryModel`).
//!
//! Java's double arithmetic, not Spark SQL's: `x / 0` is `±∞` or NaN and `x % 0` is NaN (Spark
//! SQL returns null, or fails under ANSI mode); `%` is Java's truncated remainder (C `fmod`,
//! as Rust's `%`); `log_n(a, b)` is `ln(a) / ln(b)`; `min`/`max` are `Math.min`/`Math.max`
//! (NaN if either is NaN, `-0.0 < 0.0`).
//!
//! # Null Handling
//! A null in any input column gives a null output, as MLeap's Spark transformer (a Spark UDF
//! over primitive doubles) does; MLeap's own runtime fails on such a row.

use std::sync::Arc;

use arrow::array::{Array, Float64Array, Float64Builder};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::common::{StageRef, arrays, as_f64, fingerprint, hash_f64s};

/// The operations of MLeap's `BinaryOperation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOperation {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b`.
    Div,
    /// `a % b` (truncated).
    Rem,
    /// `ln(a) / ln(b)`.
    LogN,
    /// `Math.pow(a, b)`.
    Pow,
    /// `Math.min(a, b)`.
    Min,
    /// `Math.max(a, b)`.
    Max,
}

impl BinaryOperation {
    /// Every operation.
    pub const ALL: [BinaryOperation; 9] = [
        Self::Add,
        Self::Sub,
        Self::Mul,
        Self::Div,
        Self::Rem,
        Self::LogN,
        Self::Pow,
        Self::Min,
        Self::Max,
    ];

    /// MLeap's name for the operation (the `operation` attribute).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Sub => "sub",
            Self::Mul => "mul",
            Self::Div => "div",
            Self::Rem => "rem",
            Self::LogN => "log_n",
            Self::Pow => "pow",
            Self::Min => "min",
            Self::Max => "max",
        }
    }

    /// The operation named `name` (exact, as MLeap's `forName` map).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.name() == name)
    }

    /// Applies the operation.
    pub fn apply(&self, a: f64, b: f64) -> f64 {
        match self {
            Self::Add => a + b,
            Self::Sub => a - b,
            Self::Mul => a * b,
            Self::Div => a / b,
            Self::Rem => a % b,
            Self::LogN => a.ln() / b.ln(),
            Self::Pow => java_pow(a, b),
            Self::Min => java_min(a, b),
            Self::Max => java_max(a, b),
        }
    }
}

/// `Math.pow`: as C's `pow` except that `pow(±1, ±∞)` and `pow(1, NaN)` are NaN in Java.
fn java_pow(a: f64, b: f64) -> f64 {
    if b.is_nan() || (a.abs() == 1.0 && b.is_infinite()) {
        return f64::NAN;
    }
    a.powf(b)
}

fn java_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        // -0.0 is the smaller zero
        if a.is_sign_negative() { a } else { b }
    } else if a < b {
        a
    } else {
        b
    }
}

fn java_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        if a.is_sign_positive() { a } else { b }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Where each operand comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Operands {
    /// `a` and `b` are the UDF's two arguments.
    Both,
    /// `a` is the argument, `b` the fixed value.
    A {
        /// The default for `b`.
        b: f64,
    },
    /// `b` is the argument, `a` the fixed value.
    B {
        /// The default for `a`.
        a: f64,
    },
}

impl Operands {
    fn arity(&self) -> usize {
        match self {
            Self::Both => 2,
            _ => 1,
        }
    }
}

/// `math_binary` with one or two column operands: `double[, double] → double`.
#[derive(Debug)]
pub struct MathBinaryUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    columns: Vec<String>,
    operation: BinaryOperation,
    operands: Operands,
    fingerprint: u64,
}

crate::udf_identity!(MathBinaryUdf);

impl MathBinaryUdf {
    /// A UDF named `name` applying `operation` for `stage` to the argument `columns` (one or
    /// two, as `operands` says).
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        columns: Vec<String>,
        operation: BinaryOperation,
        operands: Operands,
    ) -> Self {
        let fingerprint = fingerprint(|h| {
            use std::hash::Hash;
            operation.hash(h);
            match operands {
                Operands::Both => 0u8.hash(h),
                Operands::A { b } => {
                    1u8.hash(h);
                    hash_f64s(h, &[b]);
                }
                Operands::B { a } => {
                    2u8.hash(h);
                    hash_f64s(h, &[a]);
                }
            }
        });
        Self {
            name: name.into(),
            signature: Signature::any(operands.arity(), Volatility::Immutable),
            stage,
            columns,
            operation,
            operands,
            fingerprint,
        }
    }
}

impl ScalarUDFImpl for MathBinaryUdf {
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
        let ok = args.arg_fields.len() == self.operands.arity()
            && args
                .arg_fields
                .iter()
                .all(|f| f.data_type() == &DataType::Float64);
        if !ok {
            return plan_err!(
                "{}: {} expects {} double argument(s), got {:?}",
                self.name,
                self.stage,
                self.operands.arity(),
                args.arg_fields
                    .iter()
                    .map(|f| f.data_type().to_string())
                    .collect::<Vec<_>>()
            );
        }
        Ok(Arc::new(Field::new(&self.name, DataType::Float64, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let first = as_f64(&self.name, &input[0])?;
        let second: Option<&Float64Array> = match input.get(1) {
            Some(a) => Some(as_f64(&self.name, a)?),
            None => None,
        };
        let op = self.operation;
        let mut out = Float64Builder::with_capacity(first.len());
        for row in 0..first.len() {
            let y = match (self.operands, second) {
                (Operands::Both, Some(s)) => {
                    if first.is_null(row) || s.is_null(row) {
                        None
                    } else {
                        Some(op.apply(first.value(row), s.value(row)))
                    }
                }
                (Operands::A { b }, _) => {
                    (!first.is_null(row)).then(|| op.apply(first.value(row), b))
                }
                (Operands::B { a }, _) => {
                    (!first.is_null(row)).then(|| op.apply(a, first.value(row)))
                }
                (Operands::Both, None) => {
                    return Err(self.stage.error(
                        self.columns.first().map(String::as_str).unwrap_or(""),
                        row,
                        "second operand missing",
                    ));
                }
            };
            out.append_option(y);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::invoke;
    use arrow::array::{ArrayRef, AsArray};
    use arrow::datatypes::Float64Type;

    #[test]
    fn java_arithmetic() {
        use BinaryOperation::*;
        assert_eq!(Div.apply(1.0, 0.0), f64::INFINITY);
        assert_eq!(Div.apply(-1.0, 0.0), f64::NEG_INFINITY);
        assert!(Div.apply(0.0, 0.0).is_nan());
        assert!(Rem.apply(5.0, 0.0).is_nan());
        assert_eq!(Rem.apply(-7.5, 2.0), -1.5);
        assert_eq!(LogN.apply(8.0, 2.0), 8f64.ln() / 2f64.ln());
        assert!(Pow.apply(1.0, f64::INFINITY).is_nan());
        assert!(Pow.apply(1.0, f64::NAN).is_nan());
        assert_eq!(Pow.apply(f64::NAN, 0.0), 1.0);
        assert_eq!(Pow.apply(2.0, 10.0), 1024.0);
        assert!(Min.apply(f64::NAN, 1.0).is_nan());
        assert!(Max.apply(1.0, f64::NAN).is_nan());
        assert!(Min.apply(0.0, -0.0).is_sign_negative());
        assert!(Max.apply(-0.0, 0.0).is_sign_positive());
        for op in BinaryOperation::ALL {
            assert_eq!(BinaryOperation::parse(op.name()), Some(op));
        }
    }

    #[test]
    fn operands_and_nulls() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![Some(6.0), None, Some(1.0)]));
        let b: ArrayRef = Arc::new(Float64Array::from(vec![Some(3.0), Some(1.0), None]));
        let stage = StageRef::new("mb", "MathBinary");
        let both = MathBinaryUdf::new(
            "mb",
            stage.clone(),
            vec!["a".into(), "b".into()],
            BinaryOperation::Sub,
            Operands::Both,
        );
        let out = invoke(&both, vec![Arc::clone(&a), b]).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.value(0), 3.0);
        assert!(out.is_null(1) && out.is_null(2));
        let only_b = MathBinaryUdf::new(
            "mb",
            stage,
            vec!["a".into()],
            BinaryOperation::Sub,
            Operands::B { a: 10.0 },
        );
        let out = invoke(&only_b, vec![a]).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.value(0), 4.0);
        assert!(out.is_null(1));
        assert_eq!(out.value(2), 9.0);
    }
}
