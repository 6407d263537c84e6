//! Writing scored batches as Spark writes them.
//!
//! * Parquet: vectors in the VectorUDT struct layout, plus Spark's schema in the file metadata
//!   (`org.apache.spark.sql.parquet.row.metadata`), so `spark.read.parquet` gives vector
//!   columns back as `VectorUDT`.
//! * JSON lines: Spark's `df.write.json` shapes: null fields omitted, vectors as
//!   `{"type":1,"values":[..]}` / `{"type":0,"size":n,"indices":[..],"values":[..]}`, numbers as
//!   Java prints them (`1.0E7`), NaN and infinities as strings.
//! * CSV: a header line, numbers as Java prints them, vectors in Spark's `toString` form
//!   (`[1.0,2.0]`, `(5,[1,3],[7.0,9.0])`), null as an empty field, RFC 4180 quoting. Arrays
//!   (e.g. Tokenizer's `array<string>`) and maps, which Spark's CSV writer refuses, are written
//!   in Spark's cast-to-string forms `[a, null, b]` and `{a -> 1.0, b -> null}` (not reversible
//!   when items contain `, `).
//!
//! CSV and JSON lines are rendered by [`RenderLinesUdf`] inside the plan, so formatting runs on
//! every core; the [`Sink`] then only appends bytes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder};
use arrow::datatypes::{
    DataType, Field, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, Schema,
    SchemaRef, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use ember_udfs::cast::write_vector;
use ember_udfs::java_fmt::{write_java_double, write_java_float};
use ember_udfs::vector::{VectorArray, VectorRef, is_vector_type};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use serde_json::{Value, json};

use crate::error::{EmberError, Result, io_err};
use crate::io::read::DataFormat;

/// Spark's Parquet metadata key holding the Spark SQL schema.
pub const SPARK_ROW_METADATA: &str = "org.apache.spark.sql.parquet.row.metadata";

fn spark_type(t: &DataType) -> Option<Value> {
    if is_vector_type(t) {
        return Some(json!({
            "type": "udt",
            "class": "org.apache.spark.ml.linalg.VectorUDT",
            "pyClass": "pyspark.ml.linalg.VectorUDT",
            "sqlType": {"type": "struct", "fields": [
                {"name": "type", "type": "byte", "nullable": false, "metadata": {}},
                {"name": "size", "type": "integer", "nullable": true, "metadata": {}},
                {"name": "indices", "type": {"type": "array", "elementType": "integer", "containsNull": false}, "nullable": true, "metadata": {}},
                {"name": "values", "type": {"type": "array", "elementType": "double", "containsNull": false}, "nullable": true, "metadata": {}},
            ]},
        }));
    }
    Some(match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => json!("string"),
        DataType::Float64 => json!("double"),
        DataType::Float32 => json!("float"),
        DataType::Int8 => json!("byte"),
        DataType::Int16 => json!("short"),
        DataType::Int32 => json!("integer"),
        DataType::Int64 => json!("long"),
        DataType::Boolean => json!("boolean"),
        DataType::Binary | DataType::LargeBinary => json!("binary"),
        DataType::Date32 => json!("date"),
        DataType::List(f) | DataType::LargeList(f) => json!({
            "type": "array", "elementType": spark_type(f.data_type())?, "containsNull": f.is_nullable()
        }),
        DataType::Struct(fields) => spark_struct(fields.iter().map(|f| f.as_ref()))?,
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => json!({
                "type": "map", "keyType": spark_type(kv[0].data_type())?,
                "valueType": spark_type(kv[1].data_type())?, "valueContainsNull": kv[1].is_nullable()
            }),
            _ => return None,
        },
        _ => return None,
    })
}

fn spark_struct<'a>(fields: impl Iterator<Item = &'a Field>) -> Option<Value> {
    let fields: Option<Vec<Value>> = fields
        .map(|f| {
            Some(json!({
                "name": f.name(), "type": spark_type(f.data_type())?,
                "nullable": f.is_nullable(), "metadata": {}
            }))
        })
        .collect();
    Some(json!({"type": "struct", "fields": fields?}))
}

/// Spark's SQL schema JSON for `schema`, or `None` when a column has no Spark equivalent.
pub fn spark_schema_json(schema: &Schema) -> Option<String> {
    spark_struct(schema.fields().iter().map(|f| f.as_ref())).map(|v| v.to_string())
}

/// Renders rows as text lines, CSV or JSON (without the line terminator).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LineFormat {
    /// Comma-separated values; fields quoted only when needed (RFC 4180).
    Csv,
    /// One JSON object per line, with these field names (Spark's JSON writer conventions).
    Json(Vec<String>),
}

impl LineFormat {
    /// The format for `format` and the columns of `schema` (`None` for Parquet).
    pub fn for_output(format: DataFormat, schema: &Schema) -> Option<Self> {
        match format {
            DataFormat::Csv => Some(Self::Csv),
            DataFormat::JsonLines => Some(Self::Json(
                schema.fields().iter().map(|f| f.name().clone()).collect(),
            )),
            DataFormat::Parquet => None,
        }
    }

    /// Renders every row of `columns` into `out`, one line per row.
    pub fn render(&self, columns: &[ArrayRef], rows: usize, out: &mut StringBuilder) -> Result<()> {
        let cells: Vec<CellWriter> = columns.iter().map(CellWriter::new).collect::<Result<_>>()?;
        let keys: Vec<String> = match self {
            Self::Json(names) => names
                .iter()
                .map(|n| serde_json::to_string(n).unwrap_or_default())
                .collect(),
            Self::Csv => Vec::new(),
        };
        let mut line = String::with_capacity(256);
        let mut cell = String::with_capacity(64);
        for row in 0..rows {
            line.clear();
            match self {
                Self::Csv => {
                    for (i, c) in cells.iter().enumerate() {
                        if i > 0 {
                            line.push(',');
                        }
                        cell.clear();
                        c.text(row, &mut cell)?;
                        push_csv_field(&mut line, &cell);
                    }
                }
                Self::Json(_) => {
                    line.push('{');
                    let mut first = true;
                    for (key, c) in keys.iter().zip(&cells) {
                        if c.is_null(row) {
                            continue;
                        }
                        if !first {
                            line.push(',');
                        }
                        first = false;
                        line.push_str(key);
                        line.push(':');
                        c.json(row, &mut line)?;
                    }
                    line.push('}');
                }
            }
            out.append_value(&line);
        }
        Ok(())
    }

    /// The CSV header line, if any.
    pub fn header(&self, schema: &Schema) -> Option<String> {
        match self {
            Self::Csv => {
                let mut line = String::new();
                for (i, f) in schema.fields().iter().enumerate() {
                    if i > 0 {
                        line.push(',');
                    }
                    push_csv_field(&mut line, f.name());
                }
                Some(line)
            }
            Self::Json(_) => None,
        }
    }
}

/// Appends a CSV field, quoted (with doubled quotes) when it holds a comma, quote or line break.
fn push_csv_field(line: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        line.push('"');
        for ch in field.chars() {
            if ch == '"' {
                line.push('"');
            }
            line.push(ch);
        }
        line.push('"');
    } else {
        line.push_str(field);
    }
}

/// The `ember_render_lines` UDF: renders its arguments (the output columns, in order) as one
/// text line per row, so CSV and JSON formatting runs in parallel inside the plan and the
/// writer only copies bytes.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RenderLinesUdf {
    format: LineFormat,
    signature: Signature,
}

impl RenderLinesUdf {
    /// A renderer for `format`.
    pub fn new(format: LineFormat) -> Self {
        Self {
            format,
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for RenderLinesUdf {
    fn name(&self) -> &str {
        "ember_render_lines"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let rows = args.number_rows;
        let columns: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<datafusion::error::Result<_>>()?;
        let mut out = StringBuilder::with_capacity(rows, rows * 64);
        self.format
            .render(&columns, rows, &mut out)
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// The byte stream a [`Sink`] writes to: a file, a FIFO, standard output.
pub type SinkOutput = Box<dyn Write + Send>;

/// A writer for one output.
pub enum Sink {
    /// Parquet.
    Parquet(Box<ArrowWriter<SinkOutput>>),
    /// CSV or JSON lines.
    Lines {
        /// The output.
        out: BufWriter<SinkOutput>,
        /// How rows are rendered when `write` gets columns rather than rendered lines.
        format: LineFormat,
    },
}

impl Sink {
    /// Creates `path` for batches of `schema` in `format` (a CSV file gets its header now).
    pub fn create(path: &Path, format: DataFormat, schema: &SchemaRef) -> Result<Self> {
        let file = File::create(path).map_err(io_err(path))?;
        Self::new(Box::new(file), format, schema)
    }

    /// A sink writing batches of `schema` in `format` to `file`, which is written only
    /// sequentially (so it may be a FIFO or standard output); a CSV output gets its header now.
    pub fn new(file: SinkOutput, format: DataFormat, schema: &SchemaRef) -> Result<Self> {
        Ok(match LineFormat::for_output(format, schema) {
            None => {
                let mut props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_max_row_group_row_count(Some(128 * 1024));
                if let Some(spark) = spark_schema_json(schema) {
                    props = props.set_key_value_metadata(Some(vec![KeyValue::new(
                        SPARK_ROW_METADATA.to_string(),
                        spark,
                    )]));
                }
                Sink::Parquet(Box::new(ArrowWriter::try_new(
                    file,
                    Arc::clone(schema),
                    Some(props.build()),
                )?))
            }
            Some(format) => {
                let mut out = BufWriter::with_capacity(1 << 16, file);
                if let Some(header) = format.header(schema) {
                    write_line(&mut out, &header)?;
                }
                Sink::Lines { out, format }
            }
        })
    }

    /// Appends a batch of the schema given to [`Sink::create`].
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match self {
            Sink::Parquet(w) => w.write(batch)?,
            Sink::Lines { out, format } => {
                let mut lines = StringBuilder::new();
                format.render(batch.columns(), batch.num_rows(), &mut lines)?;
                write_rendered(out, &lines.finish())?;
            }
        }
        Ok(())
    }

    /// Appends lines already rendered by [`RenderLinesUdf`] (CSV and JSON sinks only).
    pub fn write_lines(&mut self, lines: &dyn Array) -> Result<()> {
        match self {
            Sink::Lines { out, .. } => write_rendered(out, lines),
            Sink::Parquet(_) => Err(EmberError::Data {
                context: "writing".into(),
                message: "rendered lines given to a Parquet writer".into(),
            }),
        }
    }

    /// Flushes and closes the output.
    pub fn finish(self) -> Result<()> {
        match self {
            Sink::Parquet(w) => {
                w.close()?;
            }
            Sink::Lines { mut out, .. } => out.flush().map_err(write_err)?,
        }
        Ok(())
    }
}

fn write_rendered(out: &mut BufWriter<SinkOutput>, lines: &dyn Array) -> Result<()> {
    if lines.data_type() != &DataType::Utf8 {
        return Err(EmberError::Data {
            context: "writing".into(),
            message: format!("rendered lines must be strings, got {}", lines.data_type()),
        });
    }
    for line in lines.as_string::<i32>().iter() {
        write_line(out, line.unwrap_or_default())?;
    }
    Ok(())
}

fn write_line(out: &mut BufWriter<SinkOutput>, line: &str) -> Result<()> {
    out.write_all(line.as_bytes()).map_err(write_err)?;
    out.write_all(b"\n").map_err(write_err)
}

fn write_err(e: std::io::Error) -> EmberError {
    EmberError::Data {
        context: "writing output".into(),
        message: e.to_string(),
    }
}

/// Formats the cells of one column as text (CSV) or JSON values, the way Spark writes them.
pub struct CellWriter<'a> {
    array: &'a ArrayRef,
    vectors: Option<VectorArray<'a>>,
}

const FALLBACK: FormatOptions<'static> = FormatOptions::new();

impl<'a> CellWriter<'a> {
    /// A writer for `array`.
    pub fn new(array: &'a ArrayRef) -> Result<Self> {
        let vectors = if is_vector_type(array.data_type()) {
            Some(VectorArray::try_new(array.as_ref())?)
        } else {
            None
        };
        Ok(Self { array, vectors })
    }

    /// True when the cell is null.
    pub fn is_null(&self, row: usize) -> bool {
        self.array.is_null(row)
    }

    fn vector(&self, row: usize) -> Result<Option<VectorRef<'a>>> {
        match &self.vectors {
            Some(v) => Ok(v.value(row)?),
            None => Ok(None),
        }
    }

    /// Appends the cell as text (CSV, HTTP text output); null appends nothing.
    pub fn text(&self, row: usize, out: &mut String) -> Result<()> {
        if self.array.is_null(row) {
            return Ok(());
        }
        if let Some(v) = self.vector(row)? {
            write_vector(out, &v);
            return Ok(());
        }
        write_scalar(self.array, row, out, false)
    }

    /// Appends the cell as a JSON value (Spark's JSON writer conventions).
    pub fn json(&self, row: usize, out: &mut String) -> Result<()> {
        if self.array.is_null(row) {
            out.push_str("null");
            return Ok(());
        }
        if let Some(v) = self.vector(row)? {
            write_vector_json(out, &v);
            return Ok(());
        }
        write_scalar(self.array, row, out, true)
    }
}

fn json_double(out: &mut String, d: f64) {
    if d.is_finite() {
        write_java_double(out, d);
    } else {
        out.push('"');
        write_java_double(out, d);
        out.push('"');
    }
}

/// Appends a vector as Spark's JSON writer does.
pub fn write_vector_json(out: &mut String, v: &VectorRef<'_>) {
    use std::fmt::Write as _;
    let values = |out: &mut String, xs: &[f64]| {
        out.push('[');
        for (i, x) in xs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_double(out, *x);
        }
        out.push(']');
    };
    match v {
        VectorRef::Dense(xs) => {
            out.push_str("{\"type\":1,\"values\":");
            values(out, xs);
            out.push('}');
        }
        VectorRef::Sparse {
            size,
            indices,
            values: xs,
        } => {
            write!(out, "{{\"type\":0,\"size\":{size},\"indices\":[").expect("write to String");
            for (i, ix) in indices.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write!(out, "{ix}").expect("write to String");
            }
            out.push_str("],\"values\":");
            values(out, xs);
            out.push('}');
        }
    }
}

fn write_scalar(a: &ArrayRef, row: usize, out: &mut String, json: bool) -> Result<()> {
    use std::fmt::Write as _;
    macro_rules! int {
        ($t:ty) => {
            write!(out, "{}", a.as_primitive::<$t>().value(row)).expect("write to String")
        };
    }
    match a.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let s = match a.data_type() {
                DataType::Utf8 => a.as_string::<i32>().value(row),
                DataType::LargeUtf8 => a.as_string::<i64>().value(row),
                _ => a.as_string_view().value(row),
            };
            if json {
                out.push_str(&serde_json::to_string(s).unwrap_or_default());
            } else {
                out.push_str(s);
            }
        }
        DataType::Float64 => {
            let d = a.as_primitive::<Float64Type>().value(row);
            if json {
                json_double(out, d)
            } else {
                write_java_double(out, d)
            }
        }
        DataType::Float32 => {
            let f = a.as_primitive::<Float32Type>().value(row);
            if json && !f.is_finite() {
                out.push('"');
                write_java_float(out, f);
                out.push('"');
            } else {
                write_java_float(out, f);
            }
        }
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => int!(UInt64Type),
        DataType::Boolean => out.push_str(if a.as_boolean().value(row) {
            "true"
        } else {
            "false"
        }),
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) if json => {
            let item: ArrayRef = match a.data_type() {
                DataType::List(_) => a.as_list::<i32>().value(row),
                DataType::LargeList(_) => a.as_list::<i64>().value(row),
                _ => a.as_fixed_size_list().value(row),
            };
            let inner = CellWriter::new(&item)?;
            out.push('[');
            for i in 0..item.len() {
                if i > 0 {
                    out.push(',');
                }
                inner.json(i, out)?;
            }
            out.push(']');
        }
        // arrays as text (CSV, which Spark refuses for arrays): Spark's cast-to-string form,
        // `[a, null, b]`
        DataType::List(_) | DataType::LargeList(_) if !json => {
            let item: ArrayRef = match a.data_type() {
                DataType::List(_) => a.as_list::<i32>().value(row),
                _ => a.as_list::<i64>().value(row),
            };
            let inner = CellWriter::new(&item)?;
            out.push('[');
            for i in 0..item.len() {
                if i > 0 {
                    out.push_str(", ");
                }
                if inner.is_null(i) {
                    out.push_str("null");
                } else {
                    inner.text(i, out)?;
                }
            }
            out.push(']');
        }
        // maps: Spark's JSON writer writes an object (keys as strings, null values as null);
        // as text, Spark's cast-to-string form `{a -> 1.0, b -> null}`
        DataType::Map(_, _) => {
            let entries = a.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let (k, v) = (CellWriter::new(keys)?, CellWriter::new(values)?);
            let mut key = String::new();
            out.push('{');
            for i in 0..entries.len() {
                if i > 0 {
                    out.push_str(if json { "," } else { ", " });
                }
                key.clear();
                k.text(i, &mut key)?;
                if json {
                    out.push_str(&serde_json::to_string(&key).unwrap_or_default());
                    out.push(':');
                    v.json(i, out)?;
                } else {
                    out.push_str(&key);
                    out.push_str(" -> ");
                    if v.is_null(i) {
                        out.push_str("null");
                    } else {
                        v.text(i, out)?;
                    }
                }
            }
            out.push('}');
        }
        DataType::Struct(fields) if json => {
            let s = a.as_struct();
            out.push('{');
            let mut first = true;
            for (f, c) in fields.iter().zip(s.columns()) {
                if c.is_null(row) {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&serde_json::to_string(f.name()).unwrap_or_default());
                out.push(':');
                CellWriter::new(c)?.json(row, out)?;
            }
            out.push('}');
        }
        _ => {
            let f = ArrayFormatter::try_new(a.as_ref(), &FALLBACK)?;
            let text = f.value(row).to_string();
            if json {
                out.push_str(&serde_json::to_string(&text).unwrap_or_default());
            } else {
                out.push_str(&text);
            }
        }
    }
    Ok(())
}
