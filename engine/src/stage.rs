//! The format-independent stage contract.
//!
//! A [`Stage`] is one fitted Spark ML transformer with its parameters already parsed (by the
//! Spark-directory reader or the MLeap reader: two front ends, one implementation). It declares
//! the columns it reads and writes, and compiles itself into DataFusion expressions over the
//! columns available at its position in the pipeline. The compiler (see `compile.rs`) turns
//! those expressions into a logical plan or into pre-compiled physical expressions.

use std::collections::HashMap;
use std::fmt::{self, Debug};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Column, DFSchema};
use datafusion::logical_expr::{Expr, ScalarUDF, ScalarUDFImpl, cast};
use ember_udfs::StageRef;
use ember_udfs::cast::{CastToStringUdf, ToVectorUdf, castable_to_string, convertible_to_vector};
use ember_udfs::common::is_string_type;
use ember_udfs::map_entry_selector::{is_string_map_type, map_key_value, string_map_type};
use ember_udfs::multinomial_labeler::double_list_type;
use ember_udfs::text::{is_string_list_type, string_list_type};
use ember_udfs::vector::{is_vector_type, vector_data_type, vector_list_type};

use crate::error::{EmberError, Result};

/// The value type of a [`ColumnType::Map`] column.
pub use ember_udfs::map_entry_selector::MapValueType;

/// What a stage needs from an input column, or what it writes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// A string; numeric columns are cast to string with Spark's rules.
    Text,
    /// A double; other numeric types and booleans are cast.
    Double,
    /// An integer (Spark's `IntegerType`; Arrow `Int32`), e.g. KMeans' prediction. As an input
    /// (ALS' user and item ids) it is read from CSV as a double, and the stage checks the
    /// values as Spark does.
    Integer,
    /// A Spark ML vector.
    Vector,
    /// A double or a vector (VectorAssembler inputs).
    DoubleOrVector,
    /// An array of strings (Spark's `array<string>`; Arrow `List<Utf8>`). CSV cannot hold it.
    TextList,
    /// An array of doubles (Spark's `array<double>`; Arrow `List<Float64>`, item `element`).
    /// CSV cannot hold it.
    DoubleList,
    /// An array of vectors (Spark's `array<vector>`, LSH's hashes; Arrow `List` of the vector
    /// struct, item `element`). CSV cannot hold it.
    VectorList,
    /// A map from strings to values of one type (Spark's `map<string, V>`; Arrow `Map` with
    /// Spark's Parquet field names). CSV cannot hold it.
    Map(MapValueType),
    /// Any type: the stage decides from the column's actual type (FeatureHasher hashes strings
    /// and booleans as categories and numbers as values). CSV columns are untyped text, as
    /// Spark's CSV source reads them without a schema; JSON and Parquet keep their types.
    Any,
    /// Exactly this Arrow type, for what the kinds above do not name (e.g. a `long` or a
    /// struct output). CSV holds it only when it is a primitive type.
    Arrow(DataType),
}

impl ColumnType {
    /// The Arrow type to read an untyped source (CSV text) column as.
    pub fn read_type(&self) -> DataType {
        match self {
            ColumnType::Text
            | ColumnType::Vector
            | ColumnType::TextList
            | ColumnType::DoubleList
            | ColumnType::VectorList
            | ColumnType::Map(_)
            | ColumnType::Any => DataType::Utf8,
            ColumnType::Double | ColumnType::DoubleOrVector | ColumnType::Integer => {
                DataType::Float64
            }
            ColumnType::Arrow(t) if t.is_nested() => DataType::Utf8,
            ColumnType::Arrow(t) => t.clone(),
        }
    }

    /// True for the kinds a CSV field cannot hold (arrays, maps, structs).
    pub fn is_nested(&self) -> bool {
        match self {
            ColumnType::TextList
            | ColumnType::DoubleList
            | ColumnType::VectorList
            | ColumnType::Map(_) => true,
            ColumnType::Arrow(t) => t.is_nested(),
            _ => false,
        }
    }

    /// The Arrow type of a value of this kind inside ember.
    pub fn arrow_type(&self) -> DataType {
        match self {
            ColumnType::Text | ColumnType::Any => DataType::Utf8,
            ColumnType::Double | ColumnType::DoubleOrVector => DataType::Float64,
            ColumnType::Integer => DataType::Int32,
            ColumnType::Vector => vector_data_type(),
            ColumnType::TextList => string_list_type(),
            ColumnType::DoubleList => double_list_type(),
            ColumnType::VectorList => vector_list_type(),
            ColumnType::Map(v) => string_map_type(*v),
            ColumnType::Arrow(t) => t.clone(),
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ColumnType::Arrow(t) => return write!(f, "{t}"),
            ColumnType::Text => "string",
            ColumnType::Double => "double",
            ColumnType::Integer => "integer",
            ColumnType::VectorList => "array<vector>",
            ColumnType::Vector => "vector",
            ColumnType::DoubleOrVector => "double or vector",
            ColumnType::TextList => "array<string>",
            ColumnType::DoubleList => "array<double>",
            ColumnType::Map(MapValueType::Double) => "map<string,double>",
            ColumnType::Map(MapValueType::String) => "map<string,string>",
            ColumnType::Any => "any",
        })
    }
}

/// ML metadata Spark keeps on a column (its `ml_attr`), as far as ember needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnMeta {
    /// Width of a vector column, when known before reading data.
    pub vector_size: Option<usize>,
    /// Nominal values (the labels a StringIndexer output stands for).
    pub labels: Option<Arc<[String]>>,
}

/// A column a stage reads or writes.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    /// Column name.
    pub name: String,
    /// Its kind.
    pub ty: ColumnType,
    /// Metadata known before reading data (outputs only).
    pub meta: ColumnMeta,
}

impl ColumnSpec {
    /// A column of kind `ty` without metadata.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Self {
            name: name.into(),
            ty,
            meta: ColumnMeta::default(),
        }
    }

    /// With metadata.
    pub fn with_meta(mut self, meta: ColumnMeta) -> Self {
        self.meta = meta;
        self
    }
}

/// Prefix of ember's internal columns (`ember score`'s row number `__ember_row`): a
/// [`StagePlan::select`] keeps them, after its own columns.
pub const INTERNAL_COLUMN_PREFIX: &str = "__ember_";

/// What a stage does to the columns, in this order:
///
/// 1. `layers` append new columns (a name that already exists is an error: Spark's
///    `Output column x already exists`);
/// 2. `filter` keeps some rows (`handleInvalid = skip`);
/// 3. `replace` rewrites existing columns in place (Spark's `withColumn` on an existing name),
///    each computed from the columns after 1–2, and `drop` removes columns (a multi-stage
///    loader's temporary columns, RFormula's ColumnPruner);
/// 4. `select`, when set, makes the output exactly its columns in its order (SQLTransformer's
///    projection), computed from the columns after 1–3; ember's internal columns
///    ([`INTERNAL_COLUMN_PREFIX`]) are kept after them.
#[derive(Debug, Default, Clone)]
pub struct StagePlan {
    /// Projection layers. Each appends its named columns, computed from the columns available
    /// before it (so a later layer can read an earlier layer's output). Output columns appear in
    /// layer order, then in order within a layer.
    pub layers: Vec<Vec<(String, Expr)>>,
    /// Rows to keep after the layers (`handleInvalid = skip`).
    pub filter: Option<Expr>,
    /// Existing columns replaced in place by a new expression (each must exist).
    pub replace: Vec<(String, Expr)>,
    /// Columns removed (each must exist).
    pub drop: Vec<String>,
    /// The whole output, when the stage decides it: names and expressions, in order.
    pub select: Option<Vec<(String, Expr)>>,
}

impl StagePlan {
    /// A plan with one layer and no filter.
    pub fn columns(columns: Vec<(String, Expr)>) -> Self {
        Self {
            layers: vec![columns],
            ..Self::default()
        }
    }

    /// Adds a filter keeping the rows where every expression in `not_null` is non-null.
    pub fn keep_non_null(mut self, not_null: impl IntoIterator<Item = Expr>) -> Self {
        self.filter = not_null
            .into_iter()
            .map(|e| e.is_not_null())
            .reduce(|a, b| a.and(b));
        self
    }

    /// Also replaces `column` in place with `expr`.
    pub fn replacing(mut self, column: impl Into<String>, expr: Expr) -> Self {
        self.replace.push((column.into(), expr));
        self
    }

    /// Also drops `columns`.
    pub fn dropping(mut self, columns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.drop.extend(columns.into_iter().map(Into::into));
        self
    }
}

/// One fitted Spark ML stage.
pub trait Stage: Debug + Send + Sync {
    /// The stage's uid.
    fn uid(&self) -> &str;

    /// Spark's fully qualified class name (e.g. `org.apache.spark.ml.feature.StringIndexerModel`).
    fn class(&self) -> &'static str;

    /// The columns read, in order.
    fn inputs(&self) -> Vec<ColumnSpec>;

    /// The columns written, in Spark's order, with the metadata known before reading data.
    /// `upstream` describes any column produced earlier in the pipeline (`None` for columns
    /// of the input).
    fn outputs(&self, upstream: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec>;

    /// The columns the stage removes ([`StagePlan::drop`]), when known before compiling; they
    /// leave [`crate::Pipeline::output_columns`].
    fn dropped(&self) -> Vec<String> {
        Vec::new()
    }

    /// The parameters that affect transform, for `ember inspect`.
    fn params(&self) -> Vec<(&'static str, String)>;

    /// Compiles the stage against the columns available at its position.
    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan>;
}

/// The short class name (`StringIndexerModel`) of a fully qualified one.
pub fn short_class(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

/// What a stage sees while compiling: the columns before it, their metadata, and helpers that
/// read an input column as the kind the stage needs (inserting Spark's casts).
pub struct StageContext<'a> {
    pub(crate) schema: &'a DFSchema,
    pub(crate) produced: &'a HashMap<String, ColumnSpec>,
    pub(crate) uid: &'a str,
    pub(crate) class: &'static str,
}

impl<'a> StageContext<'a> {
    /// The stage reference UDFs report errors with.
    pub fn stage_ref(&self) -> StageRef {
        StageRef::new(self.uid, short_class(self.class))
    }

    /// A compile error about `column`.
    pub fn error(&self, column: &str, message: impl Into<String>) -> EmberError {
        EmberError::Compile {
            uid: self.uid.to_string(),
            class: self.class.to_string(),
            column: column.to_string(),
            message: message.into(),
        }
    }

    /// A UDF name unique to this stage: the uid, lower-cased (SQL folds unquoted names), with
    /// non-alphanumerics as `_`, then `suffix`.
    pub fn udf_name(&self, suffix: &str) -> String {
        udf_name(self.uid, suffix)
    }

    /// The UDF name for column `i` of a stage with `columns` input/output column pairs: the
    /// stage's plain name for a single column, suffixed `_i` for multi-column stages.
    pub fn column_udf_name(&self, i: usize, columns: usize) -> String {
        if columns > 1 {
            self.udf_name(&format!("_{i}"))
        } else {
            self.udf_name("")
        }
    }

    /// Wraps a UDF implementation and calls it.
    pub fn call(&self, udf: impl ScalarUDFImpl + 'static, args: Vec<Expr>) -> Expr {
        Arc::new(ScalarUDF::new_from_impl(udf)).call(args)
    }

    /// Finds a column by name: exact match first, then a unique case-insensitive match (Spark
    /// resolves column names case-insensitively by default).
    pub fn resolve(&self, name: &str) -> Result<(Column, &'a Field)> {
        resolve_column(self.schema, name).ok_or_else(|| {
            let available: Vec<_> = self
                .schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            self.error(
                name,
                format!(
                    "the input has no such column (available: {})",
                    available.join(", ")
                ),
            )
        })
    }

    /// Metadata of a column produced earlier in the pipeline (empty for input columns).
    pub fn meta(&self, name: &str) -> ColumnMeta {
        let (c, _) = match self.resolve(name) {
            Ok(r) => r,
            Err(_) => return ColumnMeta::default(),
        };
        self.produced
            .get(c.name())
            .map(|s| s.meta.clone())
            .unwrap_or_default()
    }

    /// The column as it is, with its type: for stages that decide from the actual type
    /// ([`ColumnType::Any`] inputs).
    pub fn column(&self, name: &str) -> Result<(Expr, DataType)> {
        let (c, f) = self.resolve(name)?;
        Ok((Expr::Column(c), f.data_type().clone()))
    }

    /// The column as it is when it is numeric (any integer, float or decimal type, uncast: the
    /// stage's UDF reads it as Spark does, e.g. ALS checks ids are integers within `Int` range);
    /// other types are an error.
    pub fn numeric(&self, name: &str) -> Result<Expr> {
        let (c, f) = self.resolve(name)?;
        let t = f.data_type();
        if t.is_numeric() || t == &DataType::Null {
            Ok(Expr::Column(c))
        } else {
            Err(self.error(name, format!("must be a numeric column, but it is {t}")))
        }
    }

    /// The column as a string, cast Spark's way when it is numeric.
    pub fn text(&self, name: &str) -> Result<Expr> {
        let (c, f) = self.resolve(name)?;
        let t = f.data_type();
        if is_string_type(t) {
            Ok(Expr::Column(c))
        } else if castable_to_string(t) {
            Ok(self.call(CastToStringUdf::default(), vec![Expr::Column(c)]))
        } else {
            Err(self.error(
                name,
                format!("must be a string or numeric column, but it is {t}"),
            ))
        }
    }

    /// The column as a string, without casts: stages whose Spark `transformSchema` requires
    /// `StringType` (Tokenizer, RegexTokenizer) reject other types with Spark's message.
    pub fn string(&self, name: &str) -> Result<Expr> {
        let (c, f) = self.resolve(name)?;
        let t = f.data_type();
        if is_string_type(t) {
            Ok(Expr::Column(c))
        } else {
            Err(self.error(name, format!("Input type must be string type but got {t}.")))
        }
    }

    /// The column as an array of strings (`List<Utf8>`; other list and string encodings are
    /// cast).
    pub fn text_list(&self, name: &str) -> Result<Expr> {
        let (c, f) = self.resolve(name)?;
        let t = f.data_type();
        if t == &string_list_type() {
            Ok(Expr::Column(c))
        } else if is_string_list_type(t) {
            Ok(cast(Expr::Column(c), string_list_type()))
        } else {
            Err(self.error(name, format!("must be an array of strings, but it is {t}")))
        }
    }

    /// The column as a `map<string, value>` (other map encodings with string keys and values
    /// convertible to `value` are cast).
    pub fn map(&self, name: &str, value: MapValueType) -> Result<Expr> {
        let (c, f) = self.resolve(name)?;
        let t = f.data_type();
        if t == &string_map_type(value) {
            Ok(Expr::Column(c))
        } else if is_string_map_type(t, value) {
            Ok(cast(Expr::Column(c), string_map_type(value)))
        } else {
            let found = match map_key_value(t) {
                Some((k, v)) => format!("a map from {k} to {v}"),
                None => t.to_string(),
            };
            Err(self.error(
                name,
                format!(
                    "must be a map<string,{}> column, but it is {found}",
                    value.name()
                ),
            ))
        }
    }

    /// The column as a double (numeric and boolean columns are cast, as Spark does).
    pub fn double(&self, name: &str) -> Result<Expr> {
        let (c, f) = self.resolve(name)?;
        let t = f.data_type();
        if t == &DataType::Float64 {
            Ok(Expr::Column(c))
        } else if t.is_numeric() || t == &DataType::Boolean || t == &DataType::Null {
            Ok(cast(Expr::Column(c), DataType::Float64))
        } else {
            Err(self.error(
                name,
                format!("must be a numeric or boolean column, but it is {t}"),
            ))
        }
    }

    /// The column as a Spark ML vector (lists of numbers and Spark's text form are converted).
    pub fn vector(&self, name: &str) -> Result<Expr> {
        let (c, f) = self.resolve(name)?;
        let t = f.data_type();
        if t == &vector_data_type() {
            Ok(Expr::Column(c))
        } else if is_vector_type(t) || convertible_to_vector(t) {
            Ok(self.call(ToVectorUdf::default(), vec![Expr::Column(c)]))
        } else {
            Err(self.error(name, format!("must be a vector column, but it is {t}")))
        }
    }

    /// The column as a double, or as a vector when it holds vectors.
    pub fn double_or_vector(&self, name: &str) -> Result<Expr> {
        let (_, f) = self.resolve(name)?;
        let t = f.data_type();
        if t.is_numeric() || t == &DataType::Boolean || t == &DataType::Null {
            self.double(name)
        } else if is_vector_type(t) || (convertible_to_vector(t) && !is_string_type(t)) {
            self.vector(name)
        } else {
            Err(self.error(
                name,
                format!("must be numeric, boolean or a vector, but it is {t}"),
            ))
        }
    }
}

/// See [`StageContext::udf_name`].
pub fn udf_name(uid: &str, suffix: &str) -> String {
    let base: String = uid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{base}{suffix}")
}

/// Exact match, then a unique case-insensitive match.
pub(crate) fn resolve_column<'s>(schema: &'s DFSchema, name: &str) -> Option<(Column, &'s Field)> {
    let mut insensitive = None;
    let mut count = 0;
    for (q, f) in schema.iter() {
        if f.name() == name {
            return Some((Column::new(q.cloned(), f.name()), f.as_ref()));
        }
        if f.name().eq_ignore_ascii_case(name) {
            count += 1;
            insensitive = Some((Column::new(q.cloned(), f.name()), f.as_ref()));
        }
    }
    if count == 1 { insensitive } else { None }
}
