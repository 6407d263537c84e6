//! Writing scored batches as Spark writes them.
//!
//! * Parquet: vectors in the VectorUDT struct layout, plus Spark's schema in the file metadata
//!   (`org.apache.spark.sql.parquet.row.metadata`), so `spark.read.parquet` gives vector
//!   columns back as `VectorUDT`.
//! * JSON lines: Spark's `df.write.json` shapes: null fields omitted, vectors as
//!   `{"type":1,"values":[..]}` / `{"type":0,"size":n,"indices":[..],"values":[..]}`, numbers as
//!   Java prints them (`1.0E7`), NaN and infinities as strings.
//! * CSV: a header line, numbers as Java prints them, vectors in Spark's `toString` form
//!   (`[1.0,2.0]`, `(5,[1,3],[7.0,9.0])`), null as an empty field, RFC 4180 quoting.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Field, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, Schema,
    SchemaRef, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
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

/// A writer for one output file.
pub enum Sink {
    /// Parquet.
    Parquet(ArrowWriter<File>),
    /// CSV.
    Csv(csv::Writer<BufWriter<File>>, SchemaRef, bool),
    /// JSON lines.
    Json(BufWriter<File>),
}

impl Sink {
    /// Creates `path` for batches of `schema` in `format`.
    pub fn create(path: &Path, format: DataFormat, schema: &SchemaRef) -> Result<Self> {
        let file = File::create(path).map_err(io_err(path))?;
        Ok(match format {
            DataFormat::Parquet => {
                let mut props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_max_row_group_row_count(Some(128 * 1024));
                if let Some(spark) = spark_schema_json(schema) {
                    props = props.set_key_value_metadata(Some(vec![KeyValue::new(
                        SPARK_ROW_METADATA.to_string(),
                        spark,
                    )]));
                }
                Sink::Parquet(ArrowWriter::try_new(
                    file,
                    Arc::clone(schema),
                    Some(props.build()),
                )?)
            }
            DataFormat::Csv => Sink::Csv(
                csv::WriterBuilder::new().from_writer(BufWriter::with_capacity(1 << 16, file)),
                Arc::clone(schema),
                false,
            ),
            DataFormat::JsonLines => Sink::Json(BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// Appends a batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match self {
            Sink::Parquet(w) => w.write(batch)?,
            Sink::Csv(w, schema, header_done) => {
                if !*header_done {
                    w.write_record(schema.fields().iter().map(|f| f.name()))
                        .map_err(csv_err)?;
                    *header_done = true;
                }
                let cols: Vec<CellWriter> = batch
                    .columns()
                    .iter()
                    .map(CellWriter::new)
                    .collect::<Result<_>>()?;
                let mut cells: Vec<String> = vec![String::new(); cols.len()];
                for row in 0..batch.num_rows() {
                    for (c, cell) in cols.iter().zip(cells.iter_mut()) {
                        cell.clear();
                        c.text(row, cell)?;
                    }
                    w.write_record(&cells).map_err(csv_err)?;
                }
            }
            Sink::Json(w) => {
                let names: Vec<String> = batch
                    .schema_ref()
                    .fields()
                    .iter()
                    .map(|f| serde_json::to_string(f.name()).unwrap_or_default())
                    .collect();
                let cols: Vec<CellWriter> = batch
                    .columns()
                    .iter()
                    .map(CellWriter::new)
                    .collect::<Result<_>>()?;
                let mut line = String::with_capacity(256);
                for row in 0..batch.num_rows() {
                    line.clear();
                    line.push('{');
                    let mut first = true;
                    for (name, c) in names.iter().zip(&cols) {
                        if c.is_null(row) {
                            continue;
                        }
                        if !first {
                            line.push(',');
                        }
                        first = false;
                        line.push_str(name);
                        line.push(':');
                        c.json(row, &mut line)?;
                    }
                    line.push_str("}\n");
                    w.write_all(line.as_bytes()).map_err(|e| EmberError::Data {
                        context: "writing JSON".into(),
                        message: e.to_string(),
                    })?;
                }
            }
        }
        Ok(())
    }

    /// Flushes and closes the file.
    pub fn finish(self) -> Result<()> {
        match self {
            Sink::Parquet(w) => {
                w.close()?;
            }
            Sink::Csv(mut w, schema, header_done) => {
                if !header_done {
                    w.write_record(schema.fields().iter().map(|f| f.name()))
                        .map_err(csv_err)?;
                }
                w.flush().map_err(|e| csv_err(e.into()))?;
            }
            Sink::Json(mut w) => w.flush().map_err(|e| EmberError::Data {
                context: "writing JSON".into(),
                message: e.to_string(),
            })?,
        }
        Ok(())
    }
}

fn csv_err(e: csv::Error) -> EmberError {
    EmberError::Data {
        context: "writing CSV".into(),
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
