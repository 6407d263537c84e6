//! Plumbing shared by the stage UDFs: stage identity for errors, `handleInvalid`, argument
//! access, and the equality/hash convention.

use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, StringArrayType};
use arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, exec_err};
use datafusion::logical_expr::ColumnarValue;

/// Which fitted stage a UDF computes, named in every error it raises.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StageRef {
    /// The stage's uid (Spark's `Identifiable.uid`, MLeap's node name).
    pub uid: Arc<str>,
    /// Spark's short class name, e.g. `StringIndexerModel`.
    pub class: Arc<str>,
}

impl StageRef {
    /// A stage reference.
    pub fn new(uid: impl Into<Arc<str>>, class: impl Into<Arc<str>>) -> Self {
        Self {
            uid: uid.into(),
            class: class.into(),
        }
    }

    /// An execution error for `row` (index in the evaluated batch) of `column`.
    ///
    /// Messages quote input values through [`Shown`](crate::shown::Shown); as a second guard,
    /// the whole message is cut and escaped by [`shown_message`](crate::shown::shown_message)
    /// here, so no stage error can carry a value of unbounded size or a control character.
    pub fn error(&self, column: &str, row: usize, message: impl Into<String>) -> DataFusionError {
        DataFusionError::External(Box::new(StageError {
            stage: self.clone(),
            column: column.to_string(),
            row,
            message: crate::shown::shown_message(&message.into()),
        }))
    }

    /// Row `row` of the vector column `column`, which must hold a vector (of `size` elements,
    /// when given): a malformed or null vector, or one of another size, is the row's error.
    pub fn vector_row<'a>(
        &self,
        column: &str,
        va: &crate::vector::VectorArray<'a>,
        row: usize,
        size: Option<usize>,
    ) -> Result<crate::vector::VectorRef<'a>> {
        let v = va
            .value(row)
            .map_err(|e| self.error(column, row, e.to_string()))?
            .ok_or_else(|| self.error(column, row, "null vector"))?;
        match size {
            Some(n) if v.size() != n => Err(self.error(
                column,
                row,
                format!("vector size {} does not match the model's {n}", v.size()),
            )),
            _ => Ok(v),
        }
    }
}

impl fmt::Display for StageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} '{}'", self.class, self.uid)
    }
}

/// A row that a stage cannot transform: what Spark would fail the job with.
///
/// `row` is the index within the batch the UDF was evaluated on; callers that know where the
/// batch came from (an HTTP request's records) translate it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{stage} on column '{column}': {message}")]
pub struct StageError {
    /// The stage that failed.
    pub stage: StageRef,
    /// The input column holding the offending value.
    pub column: String,
    /// Row index within the evaluated batch.
    pub row: usize,
    /// What is wrong, in Spark's words where Spark has them.
    pub message: String,
}

impl StageError {
    /// Finds a `StageError` at the root of a DataFusion error chain.
    pub fn find(err: &DataFusionError) -> Option<&StageError> {
        let mut cur = err;
        loop {
            match cur {
                DataFusionError::External(e) => return e.downcast_ref::<StageError>(),
                DataFusionError::Context(_, inner) => cur = inner,
                DataFusionError::Shared(inner) => cur = inner,
                DataFusionError::ArrowError(inner, _) => {
                    if let arrow::error::ArrowError::ExternalError(e) = inner.as_ref() {
                        if let Some(d) = e.downcast_ref::<DataFusionError>() {
                            cur = d;
                            continue;
                        }
                        return e.downcast_ref::<StageError>();
                    }
                    return None;
                }
                _ => return None,
            }
        }
    }
}

/// Spark's `handleInvalid` param: what a stage does with a value it cannot transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandleInvalid {
    /// Fail (Spark's default).
    Error,
    /// Drop the row. UDFs return null for such rows and the compiled plan filters them out.
    Skip,
    /// Keep the row with a designated value (an extra index, NaN, an extra category).
    Keep,
}

impl HandleInvalid {
    /// Parses Spark's param value (`error`, `skip`, `keep`; case-insensitive as Spark is).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Some(Self::Error),
            "skip" => Some(Self::Skip),
            "keep" => Some(Self::Keep),
            _ => None,
        }
    }

    /// The param value as Spark writes it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Skip => "skip",
            Self::Keep => "keep",
        }
    }
}

/// The volatility to declare for a stage UDF. Under `skip`, the UDF's null output feeds the
/// row filter; declaring it volatile keeps DataFusion from pushing that filter below the
/// projection by inlining (and so evaluating) the UDF a second time.
pub fn volatility(handle_invalid: HandleInvalid) -> datafusion::logical_expr::Volatility {
    match handle_invalid {
        HandleInvalid::Skip => datafusion::logical_expr::Volatility::Volatile,
        _ => datafusion::logical_expr::Volatility::Immutable,
    }
}

/// A 64-bit fingerprint of a UDF's parameters, so two UDFs with the same name but different
/// fitted values never compare equal (DataFusion uses UDF equality for common subexpressions).
pub fn fingerprint(f: impl FnOnce(&mut DefaultHasher)) -> u64 {
    let mut h = DefaultHasher::new();
    f(&mut h);
    h.finish()
}

/// What every one-column UDF backed by a fitted model holds (the generic shells: classifier,
/// regressor, string lookup, vector map, text): its name, a one-argument signature, the stage and
/// input column its errors name, the model, and the fingerprint that, with the name, is the
/// UDF's identity (see [`udf_identity!`](crate::udf_identity)).
#[derive(Debug)]
pub struct ModelUdf<M> {
    /// The UDF's name.
    pub name: String,
    /// One argument, immutable.
    pub signature: datafusion::logical_expr::Signature,
    /// The stage computed.
    pub stage: StageRef,
    /// The input column (for errors).
    pub column: String,
    /// The fitted model.
    pub model: Arc<M>,
    /// Hash of the fitted parameters (and of anything else that changes the output).
    pub fingerprint: u64,
}

impl<M> ModelUdf<M> {
    /// The shell of a UDF named `name` reading `column` for `stage` with `model`, identified by
    /// `fingerprint`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        model: Arc<M>,
        fingerprint: u64,
    ) -> Self {
        Self {
            name: name.into(),
            signature: datafusion::logical_expr::Signature::any(
                1,
                datafusion::logical_expr::Volatility::Immutable,
            ),
            stage,
            column: column.into(),
            model,
            fingerprint,
        }
    }
}

impl<M> ModelUdf<M> {
    /// Row `row` of the input vectors (see [`StageRef::vector_row`]).
    pub fn vector_row<'a>(
        &self,
        va: &crate::vector::VectorArray<'a>,
        row: usize,
        size: Option<usize>,
    ) -> Result<crate::vector::VectorRef<'a>> {
        self.stage.vector_row(&self.column, va, row, size)
    }

    /// The return field for `args` (see [`single_arg_field`]).
    pub fn return_field(
        &self,
        args: &datafusion::logical_expr::ReturnFieldArgs,
        accepts: ArgKind,
        returns: DataType,
    ) -> Result<arrow::datatypes::FieldRef> {
        single_arg_field(&self.name, &self.stage, args, accepts, returns)
    }

    /// The error of row `row`, naming the stage and input column.
    pub fn error(&self, row: usize, message: impl Into<String>) -> DataFusionError {
        self.stage.error(&self.column, row, message)
    }
}

impl<M> PartialEq for ModelUdf<M> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.fingerprint == other.fingerprint
    }
}

impl<M> Eq for ModelUdf<M> {}

impl<M> Hash for ModelUdf<M> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.fingerprint.hash(state);
    }
}

/// Hashes a float slice by bit pattern.
pub fn hash_f64s(h: &mut DefaultHasher, values: &[f64]) {
    values.len().hash(h);
    for v in values {
        v.to_bits().hash(h);
    }
}

/// Implements `PartialEq`, `Eq` and `Hash` for a UDF struct through its `name` and
/// `fingerprint` fields.
#[macro_export]
macro_rules! udf_identity {
    // a generic UDF shell around a `ModelUdf` field:
    // `udf_identity!(RegressorUdf<M: Regressor> by core)`
    ($name:ident < $g:ident : $bound:path > by $core:ident) => {
        impl<$g: $bound> PartialEq for $name<$g> {
            fn eq(&self, other: &Self) -> bool {
                self.$core == other.$core
            }
        }
        impl<$g: $bound> Eq for $name<$g> {}
        impl<$g: $bound> std::hash::Hash for $name<$g> {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.$core.hash(state);
            }
        }
    };
    // a UDF around a `ModelUdf` field: `udf_identity!(MultinomialLabelerUdf by core)`
    ($name:ident by $core:ident) => {
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.$core == other.$core
            }
        }
        impl Eq for $name {}
        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.$core.hash(state);
            }
        }
    };
    ($t:ty) => {
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.name == other.name && self.fingerprint == other.fingerprint
            }
        }
        impl Eq for $t {}
        impl std::hash::Hash for $t {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.name.hash(state);
                self.fingerprint.hash(state);
            }
        }
    };
}

/// What a one-argument stage UDF accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// Utf8, LargeUtf8 or Utf8View.
    String,
    /// Float64.
    Double,
    /// A Spark ML vector.
    Vector,
    /// An array of strings (any list encoding with string items).
    StringList,
}

impl ArgKind {
    fn accepts(&self, t: &DataType) -> bool {
        match self {
            ArgKind::String => is_string_type(t),
            ArgKind::Double => t == &DataType::Float64,
            ArgKind::Vector => crate::vector::is_vector_type(t),
            ArgKind::StringList => crate::text::is_string_list_type(t),
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            ArgKind::String => "a string",
            ArgKind::Double => "a double",
            ArgKind::Vector => "a vector",
            ArgKind::StringList => "an array of strings",
        }
    }
}

/// The return field of a one-argument stage UDF: checks the argument's type (a planning error
/// naming the UDF and stage otherwise) and returns a nullable field of type `returns`.
pub fn single_arg_field(
    udf: &str,
    stage: &StageRef,
    args: &datafusion::logical_expr::ReturnFieldArgs,
    accepts: ArgKind,
    returns: DataType,
) -> Result<arrow::datatypes::FieldRef> {
    let t = args.arg_fields.first().map(|f| f.data_type());
    match t {
        Some(t) if args.arg_fields.len() == 1 && accepts.accepts(t) => Ok(std::sync::Arc::new(
            arrow::datatypes::Field::new(udf, returns, true),
        )),
        _ => datafusion::common::plan_err!(
            "{udf}: {stage} expects one argument, {} column, got {:?}",
            accepts.describe(),
            args.arg_fields
                .iter()
                .map(|f| f.data_type().to_string())
                .collect::<Vec<_>>()
        ),
    }
}

/// Converts the arguments to arrays of `rows` rows (scalars are broadcast).
pub fn arrays(args: &[ColumnarValue], rows: usize) -> Result<Vec<ArrayRef>> {
    args.iter().map(|a| a.to_array(rows)).collect()
}

/// The argument as a `Float64Array`, or an internal error naming the UDF.
pub fn as_f64<'a>(udf: &str, a: &'a ArrayRef) -> Result<&'a Float64Array> {
    match a.data_type() {
        DataType::Float64 => Ok(a.as_primitive()),
        other => exec_err!("{udf}: expected a Float64 argument, got {other}"),
    }
}

/// True for the three Arrow string encodings DataFusion produces.
pub fn is_string_type(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Calls `f(row, value)` for every row of a string array of any encoding.
pub fn for_each_str<'a>(
    udf: &str,
    a: &'a ArrayRef,
    mut f: impl FnMut(usize, Option<&'a str>) -> Result<()>,
) -> Result<()> {
    fn run<'a, A: StringArrayType<'a>>(
        a: A,
        f: &mut impl FnMut(usize, Option<&'a str>) -> Result<()>,
    ) -> Result<()> {
        for (i, v) in a.iter().enumerate() {
            f(i, v)?;
        }
        Ok(())
    }
    match a.data_type() {
        DataType::Utf8 => run(a.as_string::<i32>(), &mut f),
        DataType::LargeUtf8 => run(a.as_string::<i64>(), &mut f),
        DataType::Utf8View => run(a.as_string_view(), &mut f),
        other => exec_err!("{udf}: expected a string argument, got {other}"),
    }
}
