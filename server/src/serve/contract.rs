//! The SageMaker SparkML Serving contract: media types, the `Accept` rules, and the schema JSON
//! (`SAGEMAKER_SPARKML_SCHEMA` or a request's `schema`), prepared against the pipeline.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema};
use ember_engine::{CompiledPipeline, Pipeline};
use ember_udfs::shown::{Shown, shown_message};
use ember_udfs::vector::{DEFAULT_MAX_VECTOR_SIZE, is_vector_type, vector_data_type};
use serde::Deserialize;

use super::error::ApiError;
use super::render::RenderLimits;

/// The default [`DataLimits::max_schema_columns`] (`--max-schema-columns`).
pub const DEFAULT_MAX_SCHEMA_COLUMNS: usize = 4096;

/// Bounds on what a request's data may cost (docs/SERVING.md, "Limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataLimits {
    /// Input columns a schema may declare at most (`--max-schema-columns`).
    pub max_schema_columns: usize,
    /// The largest declared size of a vector in Spark's text form (`--max-vector-size`); set
    /// process-wide (`ember_udfs::vector::set_max_vector_size`) when the server loads.
    pub max_vector_size: usize,
    /// Rendering bounds (`--max-dense-output-size`, `--max-response-mb`).
    pub render: RenderLimits,
}

impl Default for DataLimits {
    fn default() -> Self {
        Self {
            max_schema_columns: DEFAULT_MAX_SCHEMA_COLUMNS,
            max_vector_size: DEFAULT_MAX_VECTOR_SIZE,
            render: RenderLimits::default(),
        }
    }
}

/// A request body's format (`Content-Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// `text/csv`: one record per line, values in schema order.
    Csv,
    /// `application/json`: `{"schema"?: .., "data": [..]}`.
    Json,
    /// `application/jsonlines`: one `{"schema"?: .., "data": [..]}` per line.
    JsonLines,
}

/// The response format (`Accept`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// `text/csv`.
    Csv,
    /// `application/jsonlines`: vectors as `{"features":[..]}`.
    JsonLines,
    /// `application/jsonlines;data=text`: vectors as `{"source":"a b c"}`.
    JsonLinesText,
}

impl Accept {
    /// The response `Content-Type`, exactly as the SageMaker container sends it.
    pub fn content_type(&self) -> &'static str {
        match self {
            Accept::Csv => "text/csv",
            Accept::JsonLines | Accept::JsonLinesText => "application/jsonlines",
        }
    }
}

/// The original container's message for an unusable Accept value.
pub const BAD_ACCEPT: &str = "Accept value passed via request or environment variable is not valid";

/// A media type's `type/subtype` (trimmed, case as given) and its `key=value` parameters
/// (trimmed, quotes removed). Nothing is allocated: compare case-insensitively.
fn media_type(value: &str) -> (&str, impl Iterator<Item = (&str, &str)>) {
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim();
    let params = parts.filter_map(|p| {
        let (k, v) = p.split_once('=')?;
        Some((k.trim(), v.trim().trim_matches('"')))
    });
    (essence, params)
}

/// Whether `value` is one of `names`, ignoring ASCII case.
fn is_any(value: &str, names: &[&str]) -> bool {
    names.iter().any(|n| value.eq_ignore_ascii_case(n))
}

/// The body format named by a `Content-Type` value (parameters such as `charset` ignored).
pub fn body_format(content_type: Option<&str>) -> Option<BodyFormat> {
    let (essence, _) = media_type(content_type?);
    if is_any(essence, &["text/csv"]) {
        Some(BodyFormat::Csv)
    } else if is_any(essence, &["application/json"]) {
        Some(BodyFormat::Json)
    } else if is_any(
        essence,
        &[
            "application/jsonlines",
            "application/x-jsonlines",
            "application/jsonl",
        ],
    ) {
        Some(BodyFormat::JsonLines)
    } else {
        None
    }
}

fn parse_accept_one(value: &str) -> Option<Option<Accept>> {
    let (essence, mut params) = media_type(value);
    if is_any(essence, &["", "*/*"]) {
        Some(None)
    } else if is_any(essence, &["text/csv"]) {
        Some(Some(Accept::Csv))
    } else if is_any(essence, &["application/jsonlines"]) {
        let text =
            params.any(|(k, v)| k.eq_ignore_ascii_case("data") && v.eq_ignore_ascii_case("text"));
        Some(Some(if text {
            Accept::JsonLinesText
        } else {
            Accept::JsonLines
        }))
    } else {
        None
    }
}

/// Parses an Accept value: the first supported media type of a comma-separated list; `None`
/// for absent, blank or `*/*` (use the default).
pub fn parse_accept(value: Option<&str>) -> Result<Option<Accept>, ApiError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let mut wildcard = false;
    for part in value.split(',') {
        match parse_accept_one(part) {
            Some(Some(a)) => return Ok(Some(a)),
            Some(None) => wildcard = true,
            None => {}
        }
    }
    if wildcard {
        Ok(None)
    } else {
        Err(ApiError::bad_request(BAD_ACCEPT))
    }
}

/// One column of the schema JSON.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct ColumnSchema {
    /// Column name.
    pub name: String,
    /// `boolean`, `byte`, `short`, `int`, `long`, `float`, `double` or `string`.
    #[serde(rename = "type")]
    pub ty: String,
    /// `basic` (default), `vector` or `array`.
    #[serde(rename = "struct", default)]
    pub structure: Option<String>,
}

/// The schema JSON: input columns in order, and the output column to return.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct DataSchema {
    /// Input columns, in the order request values come in.
    pub input: Vec<ColumnSchema>,
    /// The column to return.
    pub output: ColumnSchema,
}

/// A column's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Structure {
    /// A scalar.
    Basic,
    /// A Spark ML vector.
    Vector,
    /// A list.
    Array,
}

/// A column's scalar type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicType {
    /// `boolean`.
    Boolean,
    /// `byte`.
    Byte,
    /// `short`.
    Short,
    /// `int`.
    Int,
    /// `long`.
    Long,
    /// `float`.
    Float,
    /// `double`.
    Double,
    /// `string`.
    String,
}

impl BasicType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "boolean" => Self::Boolean,
            "byte" => Self::Byte,
            "short" => Self::Short,
            "int" => Self::Int,
            "long" => Self::Long,
            "float" => Self::Float,
            "double" => Self::Double,
            "string" => Self::String,
            _ => return None,
        })
    }

    /// The Arrow type of a value.
    pub fn arrow(&self) -> DataType {
        match self {
            Self::Boolean => DataType::Boolean,
            Self::Byte => DataType::Int8,
            Self::Short => DataType::Int16,
            Self::Int => DataType::Int32,
            Self::Long => DataType::Int64,
            Self::Float => DataType::Float32,
            Self::Double => DataType::Float64,
            Self::String => DataType::Utf8,
        }
    }

    /// True for the numeric types.
    pub fn is_numeric(&self) -> bool {
        !matches!(self, Self::Boolean | Self::String)
    }
}

/// A validated column of the schema.
#[derive(Debug, Clone)]
pub struct Column {
    /// Name.
    pub name: String,
    /// Scalar (element) type.
    pub ty: BasicType,
    /// Shape.
    pub structure: Structure,
}

impl Column {
    fn from_json(c: &ColumnSchema, role: &str) -> Result<Self, String> {
        let ty = BasicType::parse(&c.ty).ok_or_else(|| {
            format!(
                "{role} column '{}': unknown type '{}' (expected boolean, byte, short, int, long, \
                 float, double or string)",
                Shown(&c.name),
                Shown(&c.ty)
            )
        })?;
        let structure = match c.structure.as_deref().unwrap_or("basic") {
            "basic" => Structure::Basic,
            "vector" => Structure::Vector,
            "array" => Structure::Array,
            other => {
                return Err(format!(
                    "{role} column '{}': unknown struct '{}' (expected basic, vector or array)",
                    Shown(&c.name),
                    Shown(other)
                ));
            }
        };
        if structure == Structure::Vector && !ty.is_numeric() {
            return Err(format!(
                "{role} column '{}': a vector holds numbers, not {}",
                Shown(&c.name),
                c.ty
            ));
        }
        Ok(Self {
            name: c.name.clone(),
            ty,
            structure,
        })
    }

    /// The Arrow type of the column.
    pub fn arrow(&self) -> DataType {
        match self.structure {
            Structure::Basic => self.ty.arrow(),
            Structure::Vector => vector_data_type(),
            Structure::Array => {
                DataType::List(Arc::new(Field::new("element", self.ty.arrow(), true)))
            }
        }
    }
}

/// A schema compiled against the pipeline: what a request with this schema needs.
#[derive(Debug)]
pub struct Prepared {
    /// The input columns.
    pub input: Vec<Column>,
    /// The output column.
    pub output: Column,
    /// The pipeline compiled for the input's Arrow schema.
    pub compiled: CompiledPipeline,
    /// Index of the output column in the compiled output.
    pub output_index: usize,
}

impl Prepared {
    /// Parses `json` and compiles `pipeline` for it. Errors say what is wrong with the schema.
    pub fn new(pipeline: &Pipeline, json: &str, max_columns: usize) -> Result<Self, String> {
        let schema: DataSchema = serde_json::from_str(json)
            .map_err(|e| format!("invalid schema JSON: {}", shown_message(&e.to_string())))?;
        Self::from_schema(pipeline, &schema, max_columns)
    }

    /// Checks that a schema declares at most `max_columns` input columns (its error names the
    /// limit and the flag that sets it).
    pub fn check_size(schema: &DataSchema, max_columns: usize) -> Result<(), String> {
        if schema.input.len() > max_columns {
            return Err(format!(
                "the schema has {} input columns, more than the limit of {max_columns} \
                 (--max-schema-columns)",
                schema.input.len()
            ));
        }
        Ok(())
    }

    /// Compiles `pipeline` for a parsed schema of at most `max_columns` input columns. The
    /// cost is linear in the number of columns.
    pub fn from_schema(
        pipeline: &Pipeline,
        schema: &DataSchema,
        max_columns: usize,
    ) -> Result<Self, String> {
        Self::check_size(schema, max_columns)?;
        let input: Vec<Column> = schema
            .input
            .iter()
            .map(|c| Column::from_json(c, "input"))
            .collect::<Result<_, _>>()?;
        let mut seen = std::collections::HashSet::with_capacity(input.len());
        for c in &input {
            if !seen.insert(c.name.as_str()) {
                return Err(format!("input column '{}' appears twice", Shown(&c.name)));
            }
        }
        let output = Column::from_json(&schema.output, "output")?;
        let arrow = Arc::new(Schema::new(
            input
                .iter()
                .map(|c| Field::new(&c.name, c.arrow(), true))
                .collect::<Vec<_>>(),
        ));
        // only what the output column needs is computed per request (an output column the
        // pipeline does not produce is an error listing the ones it does)
        let compiled = pipeline
            .compile_for(arrow, &[output.name.as_str()])
            .map_err(|e| shown_message(&e.to_string()))?;
        let out_schema = compiled.output_schema();
        let output_index = out_schema
            .index_of(&output.name)
            .map_err(|e| shown_message(&e.to_string()))?;
        let actual = out_schema.field(output_index).data_type();
        let fits = match output.structure {
            Structure::Basic => {
                !is_vector_type(actual)
                    && !matches!(
                        actual,
                        DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_)
                    )
            }
            Structure::Vector => is_vector_type(actual) || matches!(actual, DataType::List(_)),
            Structure::Array => {
                is_vector_type(actual)
                    || matches!(actual, DataType::List(_) | DataType::LargeList(_))
            }
        };
        if !fits {
            let hint = if is_vector_type(actual) {
                " (declare \"struct\": \"vector\")"
            } else {
                ""
            };
            return Err(format!(
                "output column '{}' is {actual}, which does not fit struct '{}'{hint}",
                Shown(&output.name),
                Shown(schema.output.structure.as_deref().unwrap_or("basic"))
            ));
        }
        Ok(Self {
            input,
            output,
            compiled,
            output_index,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_values() {
        assert_eq!(parse_accept(None).unwrap(), None);
        assert_eq!(parse_accept(Some("*/*")).unwrap(), None);
        assert_eq!(parse_accept(Some("text/csv")).unwrap(), Some(Accept::Csv));
        assert_eq!(
            parse_accept(Some("Text/CSV; charset=utf-8")).unwrap(),
            Some(Accept::Csv)
        );
        assert_eq!(
            parse_accept(Some("application/jsonlines")).unwrap(),
            Some(Accept::JsonLines)
        );
        assert_eq!(
            parse_accept(Some("application/jsonlines; data=text")).unwrap(),
            Some(Accept::JsonLinesText)
        );
        assert_eq!(
            parse_accept(Some("application/json, text/csv")).unwrap(),
            Some(Accept::Csv)
        );
        assert_eq!(
            parse_accept(Some("Application/JSONLines; Data=\"Text\"")).unwrap(),
            Some(Accept::JsonLinesText)
        );
        assert!(parse_accept(Some("application/json")).is_err());
    }

    #[test]
    fn content_types() {
        assert_eq!(
            body_format(Some("text/csv; charset=UTF-8")),
            Some(BodyFormat::Csv)
        );
        assert_eq!(
            body_format(Some("application/jsonlines;data=text")),
            Some(BodyFormat::JsonLines)
        );
        assert_eq!(
            body_format(Some(" Application/JSON ")),
            Some(BodyFormat::Json)
        );
        assert_eq!(body_format(Some("application/octet-stream")), None);
        assert_eq!(body_format(None), None);
    }
}
