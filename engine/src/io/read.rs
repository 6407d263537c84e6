//! Reading input files with the types the pipeline needs, as one ordered stream of batches.
//!
//! * CSV (with a header): the pipeline's input columns are read as the type their first stage
//!   needs (string, double, or a vector in Spark's text form); every other column stays text.
//!   Nothing is guessed from the text: a numeric-looking string column stays a string.
//! * JSON lines: types come from the JSON values (inferred from the first lines), except the
//!   pipeline's input columns, which are read as their stages need (numbers in a string column
//!   keep their JSON text, as Spark's JSON reader does; objects in a map column read as maps).
//!   Errors name the line.
//! * Parquet: the file's own types; the compiler inserts Spark's casts where needed.
//!
//! Several files are read one after another as a single input; all must share one schema.
//! Each batch gets a `__ember_row` column numbering the rows from 0 in input order, which lets
//! the plan score batches in parallel and still write rows in input order.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::{ArrayRef, RecordBatch, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::json::reader::{ReaderBuilder as JsonReaderBuilder, infer_json_schema_from_iterator};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::col;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{EmberError, Result, io_err};
use crate::pipeline::Pipeline;
use crate::stage::ColumnType;
use ember_udfs::map_entry_selector::string_map_type;
use ember_udfs::multinomial_labeler::double_list_type;
use ember_udfs::shown::{Shown, shown_message};
use ember_udfs::text::string_list_type;
use ember_udfs::vector::{vector_data_type, vector_list_type};

/// Name of the row-number column the input stream adds.
pub const ROW_COLUMN: &str = "__ember_row";

/// A data file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line.
    JsonLines,
    /// Apache Parquet.
    Parquet,
}

impl DataFormat {
    /// Guesses the format from a file extension (`.csv`, `.json`/`.jsonl`/`.ndjson`,
    /// `.parquet`/`.pq`).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Self::Csv),
            "json" | "jsonl" | "ndjson" => Some(Self::JsonLines),
            "parquet" | "pq" => Some(Self::Parquet),
            _ => None,
        }
    }

    /// Parses a format name (`csv`, `json`, `jsonl`, `parquet`).
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "json" | "jsonl" | "jsonlines" | "ndjson" => Some(Self::JsonLines),
            "parquet" | "pq" => Some(Self::Parquet),
            _ => None,
        }
    }

    /// The format of `path`: `explicit` if given, else from the extension.
    pub fn resolve(path: &Path, explicit: Option<Self>) -> Result<Self> {
        explicit
            .or_else(|| Self::from_path(path))
            .ok_or_else(|| EmberError::Data {
                context: path.display().to_string(),
                message:
                    "cannot tell the format from the extension; use .csv, .jsonl or .parquet, \
                      or name the format explicitly"
                        .into(),
            })
    }
}

/// Counters shared between the reader and whoever reports progress.
#[derive(Debug, Default)]
pub struct ReadProgress {
    /// Rows read so far.
    pub rows: AtomicU64,
    /// Bytes read so far (CSV and JSON).
    pub bytes: AtomicU64,
}

struct Counting<R> {
    inner: R,
    progress: Arc<ReadProgress>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// One or more input files of one format and schema, read in order.
#[derive(Debug, Clone)]
pub struct Inputs {
    files: Vec<PathBuf>,
    format: DataFormat,
    schema: SchemaRef,
    batch_size: usize,
    /// Total input size in bytes (CSV/JSON) or rows (Parquet), for progress.
    total: u64,
    progress: Arc<ReadProgress>,
}

/// A data error about `path`; the message (which may quote the file, as arrow's and the
/// parquet crate's do) is cut and escaped with [`shown_message`].
fn data_err(path: &Path, message: impl std::fmt::Display) -> EmberError {
    EmberError::Data {
        context: path.display().to_string(),
        message: shown_message(&message.to_string()),
    }
}

fn csv_header(path: &Path) -> Result<Vec<String>> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(file);
    let header = reader
        .headers()
        .map_err(|e| data_err(path, format!("unreadable CSV header: {e}")))?;
    if header.is_empty() || header.iter().all(str::is_empty) {
        return Err(data_err(path, "the CSV file has no header line"));
    }
    Ok(header.iter().map(str::to_string).collect())
}

/// serde_json's message without its position (`… at line 1 column 8`): each JSON line is
/// parsed on its own, so serde's line is always 1; the caller names the file's line and the
/// column is kept.
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&suffix) {
        Some(message) if e.line() > 0 => {
            format!("{} (at character {})", shown_message(message), e.column())
        }
        _ => shown_message(&text),
    }
}

/// Top-level keys of the first `max_lines` non-blank JSON lines, in order of first appearance,
/// and the schema arrow infers from those lines; a malformed line, or one whose values
/// conflict with the lines before it, is an error naming it.
fn json_sample(path: &Path, max_lines: usize) -> Result<(Vec<String>, Schema)> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> std::result::Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(k) = map.next_key::<String>()? {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    let at_line = |n: usize| format!("{}: line {n}", path.display());
    let file = File::open(path).map_err(io_err(path))?;
    let mut reader = BufReader::new(file);
    let mut order: Vec<String> = Vec::new();
    let mut line = Vec::new();
    let (mut line_no, mut sampled) = (0usize, 0usize);
    // the line arrow was last given, whether all were given, and ember's own error for a line
    // that is not a JSON object (the lines are read as arrow asks for them, one at a time)
    let mut last: Option<usize> = None;
    let mut done = false;
    let mut failed: Option<EmberError> = None;
    let mut next_value = || -> Option<std::result::Result<serde_json::Value, ArrowError>> {
        let fail = |failed: &mut Option<EmberError>, e: EmberError| {
            *failed = Some(e);
            Some(Err(ArrowError::JsonError("not a JSON object".into())))
        };
        loop {
            if sampled == max_lines {
                done = true;
                return None;
            }
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => {
                    done = true;
                    return None;
                }
                Ok(_) => {}
                Err(e) => return fail(&mut failed, io_err(path)(e)),
            }
            line_no += 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            last = Some(line_no);
            sampled += 1;
            let text = match std::str::from_utf8(&line) {
                Ok(t) => t,
                Err(e) => {
                    let e = EmberError::Data {
                        context: at_line(line_no),
                        message: format!("not UTF-8 text (at byte {})", e.valid_up_to() + 1),
                    };
                    return fail(&mut failed, e);
                }
            };
            // without its line end, so that serde's positions stay on the line
            let text = text.trim_end_matches(['\n', '\r']);
            let parsed = serde_json::from_str::<Keys>(text)
                .and_then(|keys| Ok((keys, serde_json::from_str::<serde_json::Value>(text)?)));
            return match parsed {
                Ok((Keys(keys), value)) => {
                    for k in keys {
                        if !order.contains(&k) {
                            order.push(k);
                        }
                    }
                    Some(Ok(value))
                }
                Err(e) => {
                    let e = EmberError::Data {
                        context: at_line(line_no),
                        message: format!("not a JSON object: {}", json_message(&e)),
                    };
                    fail(&mut failed, e)
                }
            };
        }
    };
    // arrow infers line by line and fails on the first line that conflicts with the earlier
    // ones: the line it was given last
    let inferred = infer_json_schema_from_iterator(std::iter::from_fn(&mut next_value));
    if let Some(e) = failed {
        return Err(e);
    }
    let schema = inferred.map_err(|e| EmberError::Data {
        context: match last {
            Some(n) if !done => at_line(n),
            _ => path.display().to_string(),
        },
        message: format!(
            "the JSON values do not fit one schema: {}",
            shown_message(&e.to_string())
        ),
    })?;
    Ok((order, schema))
}

fn json_schema(path: &Path, pipeline: &Pipeline) -> Result<Schema> {
    const SAMPLE: usize = 1000;
    let (order, inferred) = json_sample(path, SAMPLE)?;
    let needed = pipeline.input_columns();
    for c in &needed {
        if !order.iter().any(|n| n.eq_ignore_ascii_case(&c.name)) {
            return Err(data_err(
                path,
                format!(
                    "the pipeline needs column '{}' but the first {SAMPLE} lines do not have it \
                     (found: {})",
                    c.name,
                    order
                        .iter()
                        .map(|k| Shown(k).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let fields: Vec<Field> = order
        .iter()
        .filter_map(|name| inferred.field_with_name(name).ok())
        .map(|f| {
            let need = needed.iter().find(|c| c.name == *f.name()).or_else(|| {
                needed
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(f.name()))
            });
            let inferred = f.data_type();
            let numeric = inferred.is_numeric() || inferred == &DataType::Boolean;
            let t = match need.map(|c| &c.ty) {
                None | Some(ColumnType::Any) => inferred.clone(),
                Some(ColumnType::Arrow(t)) => t.clone(),
                Some(ColumnType::Text) => DataType::Utf8,
                // JSON numbers and booleans keep their type (the compiler casts as Spark does);
                // strings such as "NaN" (how Spark writes it) parse as doubles
                Some(ColumnType::Double | ColumnType::Integer) if numeric => inferred.clone(),
                Some(ColumnType::Double | ColumnType::Integer) => DataType::Float64,
                Some(ColumnType::DoubleOrVector) => match inferred {
                    DataType::List(_) | DataType::Struct(_) => vector_json_type(inferred),
                    t if numeric => t.clone(),
                    _ => DataType::Float64,
                },
                Some(ColumnType::Vector) => vector_json_type(inferred),
                // JSON arrays read as array<string>; anything else keeps its type and the
                // compiler reports the mismatch
                Some(ColumnType::TextList) => match inferred {
                    DataType::List(_) => string_list_type(),
                    t => t.clone(),
                },
                Some(ColumnType::DoubleList) => match inferred {
                    DataType::List(_) => double_list_type(),
                    t => t.clone(),
                },
                Some(ColumnType::VectorList) => match inferred {
                    DataType::List(_) => vector_list_type(),
                    t => t.clone(),
                },
                // JSON objects (inferred as structs) read as maps; an all-null column too, so
                // its nulls reach the stage
                Some(ColumnType::Map(v)) => match inferred {
                    DataType::Struct(_) | DataType::Null => string_map_type(*v),
                    t => t.clone(),
                },
            };
            Field::new(f.name(), t, true)
        })
        .collect();
    Ok(Schema::new(fields))
}

/// How a vector column is decoded from JSON: Spark's struct form reads straight into the
/// VectorUDT layout; a plain array reads as a list (converted by the compiler).
fn vector_json_type(inferred: &DataType) -> DataType {
    match inferred {
        DataType::List(_) => DataType::List(Arc::new(Field::new("item", DataType::Float64, true))),
        DataType::Utf8 => DataType::Utf8,
        _ => vector_data_type(),
    }
}

impl Inputs {
    /// Opens `files` (all of `format`) and works out the schema to read them with.
    pub fn open(
        files: &[PathBuf],
        format: DataFormat,
        pipeline: &Pipeline,
        batch_size: usize,
    ) -> Result<Self> {
        let first = files.first().ok_or_else(|| EmberError::Data {
            context: "input".into(),
            message: "no input files".into(),
        })?;
        let schema_of = |path: &Path| -> Result<Schema> {
            match format {
                DataFormat::Csv => pipeline
                    .read_schema(&csv_header(path)?)
                    .map_err(|e| match e {
                        EmberError::Data { context, message } => EmberError::Data {
                            context: format!("{}: {context}", path.display()),
                            message,
                        },
                        e => e,
                    }),
                DataFormat::JsonLines => json_schema(path, pipeline),
                DataFormat::Parquet => {
                    let f = File::open(path).map_err(io_err(path))?;
                    let b = ParquetRecordBatchReaderBuilder::try_new(f)
                        .map_err(|e| data_err(path, format!("unreadable Parquet: {e}")))?;
                    Ok(b.schema()
                        .as_ref()
                        .clone()
                        .with_metadata(Default::default()))
                }
            }
        };
        let schema = schema_of(first)?;
        let mut total = 0u64;
        for f in files {
            let meta = std::fs::metadata(f).map_err(io_err(f))?;
            if f != first && format != DataFormat::JsonLines {
                let other = schema_of(f)?;
                let same = other.fields().len() == schema.fields().len()
                    && other
                        .fields()
                        .iter()
                        .zip(schema.fields())
                        .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
                if !same {
                    return Err(data_err(
                        f,
                        format!(
                            "its columns differ from those of {}; all inputs must share one schema",
                            first.display()
                        ),
                    ));
                }
            }
            total += match format {
                DataFormat::Parquet => {
                    let file = File::open(f).map_err(io_err(f))?;
                    ParquetRecordBatchReaderBuilder::try_new(file)
                        .map(|b| b.metadata().file_metadata().num_rows() as u64)
                        .unwrap_or(0)
                }
                _ => meta.len(),
            };
        }
        Ok(Self {
            files: files.to_vec(),
            format,
            schema: Arc::new(schema),
            batch_size: batch_size.max(1),
            total,
            progress: Arc::default(),
        })
    }

    /// The schema the files are read with (without the row-number column).
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The format.
    pub fn format(&self) -> DataFormat {
        self.format
    }

    /// Progress counters (rows, bytes read so far).
    pub fn progress(&self) -> Arc<ReadProgress> {
        Arc::clone(&self.progress)
    }

    /// Total work for progress reporting: bytes for CSV and JSON, rows for Parquet.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The schema of the stream: the input columns plus [`ROW_COLUMN`].
    pub fn stream_schema(&self) -> SchemaRef {
        let mut fields: Vec<Field> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(ROW_COLUMN, DataType::UInt64, false));
        Arc::new(Schema::new(fields))
    }

    /// The inputs as a DataFusion table: one partition, ordered by [`ROW_COLUMN`].
    pub fn table(&self) -> Result<StreamingTable> {
        let schema = self.stream_schema();
        let partition: Arc<dyn PartitionStream> = Arc::new(InputPartition {
            inputs: self.clone(),
            schema: Arc::clone(&schema),
        });
        Ok(StreamingTable::try_new(schema, vec![partition])?
            .with_sort_order(vec![col(ROW_COLUMN).sort(true, false)]))
    }

    /// Reads every batch in order on the calling thread, passing each (with its row numbers)
    /// to `sink`; stops at the first error or when `sink` returns false.
    pub fn read_all(&self, mut sink: impl FnMut(Result<RecordBatch>) -> bool) {
        let stream_schema = self.stream_schema();
        let mut next_row = 0u64;
        let mut emit = |batch: RecordBatch, sink: &mut dyn FnMut(Result<RecordBatch>) -> bool| {
            let n = batch.num_rows() as u64;
            let ids: ArrayRef = Arc::new(UInt64Array::from_iter_values(next_row..next_row + n));
            next_row += n;
            self.progress.rows.fetch_add(n, Ordering::Relaxed);
            let mut cols = batch.columns().to_vec();
            cols.push(ids);
            sink(RecordBatch::try_new(Arc::clone(&stream_schema), cols).map_err(Into::into))
        };
        for path in &self.files {
            let ok = match self.format {
                DataFormat::Csv => self.read_csv(path, &mut |b| emit(b, &mut sink)),
                DataFormat::JsonLines => self.read_json(path, &mut |b| emit(b, &mut sink)),
                DataFormat::Parquet => self.read_parquet(path, &mut |b| emit(b, &mut sink)),
            };
            match ok {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    sink(Err(e));
                    return;
                }
            }
        }
    }

    fn read_csv(&self, path: &Path, emit: &mut dyn FnMut(RecordBatch) -> bool) -> Result<bool> {
        let file = File::open(path).map_err(io_err(path))?;
        let reader = Counting {
            inner: file,
            progress: Arc::clone(&self.progress),
        };
        let reader = arrow::csv::ReaderBuilder::new(Arc::clone(&self.schema))
            .with_header(true)
            .with_batch_size(self.batch_size)
            .build(reader)
            .map_err(|e| data_err(path, e))?;
        let mut rows = 0u64;
        for batch in reader {
            let batch = batch.map_err(|e| self.csv_error(path, rows, e))?;
            rows += batch.num_rows() as u64;
            if !emit(batch) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The error arrow's CSV reader gave for a batch starting at data row `first` (0-based,
    /// in `path`), located: arrow counts records, not lines, and quotes the whole row, so the
    /// batch is decoded again one record at a time to find the record, whose line is then
    /// counted as [`Inputs::locate`] does, and the message is ember's own where it can tell
    /// what is wrong.
    fn csv_error(&self, path: &Path, first: u64, original: arrow::error::ArrowError) -> EmberError {
        let found = (|| {
            let file = File::open(path).ok()?;
            let start = usize::try_from(first).ok()?;
            let reader = arrow::csv::ReaderBuilder::new(Arc::clone(&self.schema))
                .with_header(true)
                .with_batch_size(1)
                .with_bounds(start, start.saturating_add(self.batch_size))
                .build(file)
                .ok()?;
            for (k, b) in reader.enumerate() {
                if let Err(e) = b {
                    return Some((first + k as u64, e));
                }
            }
            None
        })();
        let Some((row, e)) = found else {
            return data_err(path, original);
        };
        let Ok(Walk::At { line, record }) = csv_walk(path, row) else {
            return data_err(path, e);
        };
        let expected = self.schema.fields().len();
        let message = if record.len() != expected {
            format!("{} fields where the header has {expected}", record.len())
        } else {
            self.schema
                .fields()
                .iter()
                .zip(record.iter())
                .find_map(|(f, v)| {
                    if f.data_type() == &DataType::Utf8 || v.is_empty() {
                        return None;
                    }
                    let Ok(text) = std::str::from_utf8(v) else {
                        return Some(format!("column '{}': not UTF-8 text", f.name()));
                    };
                    let value: ArrayRef = Arc::new(arrow::array::StringArray::from(vec![text]));
                    let options = arrow::compute::CastOptions {
                        safe: false,
                        ..Default::default()
                    };
                    arrow::compute::cast_with_options(&value, f.data_type(), &options)
                        .err()
                        .map(|_| {
                            format!(
                                "column '{}': '{}' is not a {}",
                                f.name(),
                                Shown(text),
                                type_name(f.data_type())
                            )
                        })
                })
                .unwrap_or_else(|| shown_message(&e.to_string()))
        };
        EmberError::Data {
            context: format!("{}: line {line}", path.display()),
            message,
        }
    }

    /// Where input row `row` (zero-based, counted over all the files in order, as
    /// [`EmberError::Row`] counts) is, as a person finds it: `line L` of a CSV file (the line
    /// its record starts on, the header being line 1; quoted fields may span lines) or of a
    /// JSON lines file, `row R` (1-based) of a Parquet file; preceded by the file's name when
    /// there are several inputs. Reads the files again up to that row (CSV and JSON lines).
    pub fn locate(&self, row: u64) -> Result<String> {
        let mut rest = row;
        for path in &self.files {
            let walk = match self.format {
                DataFormat::Csv => csv_walk(path, rest)?,
                DataFormat::JsonLines => json_walk(path, rest)?,
                DataFormat::Parquet => {
                    let file = File::open(path).map_err(io_err(path))?;
                    let rows = ParquetRecordBatchReaderBuilder::try_new(file)
                        .map_err(|e| data_err(path, format!("unreadable Parquet: {e}")))?
                        .metadata()
                        .file_metadata()
                        .num_rows();
                    let rows = u64::try_from(rows).unwrap_or(0);
                    if rest < rows {
                        Walk::Row(rest + 1)
                    } else {
                        Walk::Rows(rows)
                    }
                }
            };
            let at = match walk {
                Walk::At { line, .. } => format!("line {line}"),
                Walk::Row(r) => format!("row {r}"),
                Walk::Rows(n) => {
                    rest -= n;
                    continue;
                }
            };
            return Ok(if self.files.len() > 1 {
                format!("{}: {at}", path.display())
            } else {
                at
            });
        }
        Ok(format!("input row {}", row + 1))
    }

    fn read_json(&self, path: &Path, emit: &mut dyn FnMut(RecordBatch) -> bool) -> Result<bool> {
        let file = File::open(path).map_err(io_err(path))?;
        let mut reader = BufReader::with_capacity(
            1 << 16,
            Counting {
                inner: file,
                progress: Arc::clone(&self.progress),
            },
        );
        let decoder = || {
            JsonReaderBuilder::new(Arc::clone(&self.schema))
                .with_batch_size(self.batch_size)
                .with_coerce_primitive(true)
                .build_decoder()
        };
        let mut dec = decoder().map_err(|e| data_err(path, e))?;
        let mut chunk: Vec<u8> = Vec::with_capacity(1 << 16);
        // the file's line number of each line in the chunk (blank lines are left out)
        let mut chunk_lines: Vec<usize> = Vec::with_capacity(self.batch_size.min(1 << 16));
        let mut line_no = 0usize;
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(io_err(path))?;
            if n > 0 {
                line_no += 1;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                chunk.extend_from_slice(&line);
                if !line.ends_with(b"\n") {
                    chunk.push(b'\n');
                }
                chunk_lines.push(line_no);
            }
            if !chunk_lines.is_empty() && (chunk_lines.len() == self.batch_size || n == 0) {
                let batch = decode_json_chunk(&mut dec, &chunk)
                    .and_then(|()| dec.flush())
                    .map_err(|e| locate_json_error(path, &chunk, &chunk_lines, decoder, e))?;
                chunk.clear();
                chunk_lines.clear();
                if let Some(batch) = batch
                    && !emit(batch)
                {
                    return Ok(false);
                }
            }
            if n == 0 {
                return Ok(true);
            }
        }
    }

    fn read_parquet(&self, path: &Path, emit: &mut dyn FnMut(RecordBatch) -> bool) -> Result<bool> {
        let file = File::open(path).map_err(io_err(path))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| data_err(path, format!("unreadable Parquet: {e}")))?
            .with_batch_size(self.batch_size)
            .build()
            .map_err(|e| data_err(path, format!("unreadable Parquet: {e}")))?;
        for batch in reader {
            let batch = batch.map_err(|e| data_err(path, e))?;
            let batch = RecordBatch::try_new(Arc::clone(&self.schema), batch.columns().to_vec())
                .map_err(|e| data_err(path, e))?;
            if !emit(batch) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// What walking a file towards a data row found.
enum Walk {
    /// The row, on this line (CSV: with its record).
    At {
        /// 1-based line number.
        line: u64,
        /// The record's fields (CSV), empty for JSON.
        record: csv::ByteRecord,
    },
    /// The row, by its 1-based number (Parquet).
    Row(u64),
    /// The file has only this many data rows.
    Rows(u64),
}

/// Finds data row `row` (0-based, after the header) of a CSV file as arrow's reader counts
/// records (csv-core's rules: quoted fields may hold newlines, empty lines are no records).
fn csv_walk(path: &Path, row: u64) -> Result<Walk> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 16, file));
    let mut record = csv::ByteRecord::new();
    let mut index = 0u64;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(Walk::Rows(index.saturating_sub(1))),
            Err(e) => return Err(data_err(path, format!("unreadable CSV: {e}"))),
        }
        if index == row + 1 {
            let line = record.position().map_or(0, |p| p.line());
            return Ok(Walk::At { line, record });
        }
        index += 1;
    }
}

/// Finds data row `row` (0-based) of a JSON lines file: its `row + 1`-th non-blank line.
fn json_walk(path: &Path, row: u64) -> Result<Walk> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    let (mut line_no, mut rows) = (0u64, 0u64);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io_err(path))? == 0 {
            return Ok(Walk::Rows(rows));
        }
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if rows == row {
            return Ok(Walk::At {
                line: line_no,
                record: csv::ByteRecord::new(),
            });
        }
        rows += 1;
    }
}

/// How a CSV column's type is named in messages.
fn type_name(t: &DataType) -> String {
    match t {
        DataType::Float64 | DataType::Float32 => "number".into(),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            "whole number".into()
        }
        DataType::Boolean => "boolean".into(),
        t => t.to_string(),
    }
}

fn decode_json_chunk(
    dec: &mut arrow::json::reader::Decoder,
    chunk: &[u8],
) -> std::result::Result<(), arrow::error::ArrowError> {
    let mut offset = 0;
    while offset < chunk.len() {
        let used = dec.decode(&chunk[offset..])?;
        if used == 0 {
            // the decoder's batch is full: the caller flushes per chunk of batch_size lines
            break;
        }
        offset += used;
    }
    Ok(())
}

/// Finds the first line of `chunk` the decoder rejects, to report it by its number in the
/// file (`lines[i]` is the number of the chunk's `i`-th line).
fn locate_json_error(
    path: &Path,
    chunk: &[u8],
    lines: &[usize],
    decoder: impl Fn() -> std::result::Result<arrow::json::reader::Decoder, arrow::error::ArrowError>,
    original: arrow::error::ArrowError,
) -> EmberError {
    for (line, line_no) in chunk.split(|b| *b == b'\n').zip(lines) {
        if let Ok(mut d) = decoder() {
            let mut buf = line.to_vec();
            buf.push(b'\n');
            if let Err(e) = d.decode(&buf).and_then(|_| d.flush()) {
                let text = String::from_utf8_lossy(line);
                return EmberError::Data {
                    context: format!("{}: line {line_no}", path.display()),
                    message: format!(
                        "{} (line: {})",
                        shown_message(&e.to_string()),
                        Shown(text.trim_end())
                    ),
                };
            }
        }
    }
    data_err(path, shown_message(&original.to_string()))
}

#[derive(Debug)]
struct InputPartition {
    inputs: Inputs,
    schema: SchemaRef,
}

impl PartitionStream for InputPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        // Parsing is CPU work: run it on its own thread, two batches ahead of the plan.
        let (tx, rx) = tokio::sync::mpsc::channel::<datafusion::error::Result<RecordBatch>>(2);
        let inputs = self.inputs.clone();
        let failed = tx.clone();
        let spawned = std::thread::Builder::new()
            .name("ember-reader".into())
            .spawn(move || {
                inputs.read_all(|b| {
                    let b = b.map_err(|e| DataFusionError::External(Box::new(e)));
                    tx.blocking_send(b).is_ok()
                })
            });
        if let Err(e) = spawned {
            let _ = failed.try_send(Err(DataFusionError::Execution(format!(
                "cannot start the input reader thread: {e}"
            ))));
        }
        let stream =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        ))
    }
}
