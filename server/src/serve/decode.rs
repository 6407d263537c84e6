//! Request bodies → one Arrow record batch typed by the schema.
//!
//! * `text/csv`: every non-empty line is a record (RFC 4180 quoting); values in schema order.
//! * `application/json`: `{"schema"?: {..}, "data": [..]}`: one record, or several when `data`
//!   is a list of records (told apart by the first column's shape).
//! * `application/jsonlines`: one such object per line; the schema may come on the first line.
//!
//! Values convert by the schema's type: numbers from JSON numbers or numeric text, booleans
//! from `true`/`false`, strings as given (a JSON number keeps its text), vectors from a list of
//! numbers or Spark's text form, arrays from a list. JSON `null` is null; an empty CSV field is
//! null in every column, string columns included, while a quoted empty field (`""`) is the
//! empty string in a string column (Spark's CSV reader; see docs/SERVING.md). Anything else
//! is an error naming the line (CSV, JSON lines), record and column; an `application/json`
//! body is one JSON document, so its errors name the record and column only. Values quoted in
//! messages go through [`Shown`].

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float32Builder, Float64Builder, Int8Builder, Int16Builder,
    Int32Builder, Int64Builder, ListArray, RecordBatch, RecordBatchOptions, StringArray,
};
use arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{Field, Schema};
use ember_udfs::cast::parse_vector;
use ember_udfs::shown::{Shown, shown_message};
use ember_udfs::vector::VectorBuilder;
use serde_json::Value as Json;

use super::contract::{BasicType, BodyFormat, Column, DataSchema, Prepared, Structure};
use super::error::ApiError;

/// The records of a request, before typing.
#[derive(Debug)]
pub enum Records {
    /// CSV records with their line numbers.
    Csv(CsvRecords),
    /// JSON `data` lists with their line numbers (0 for an `application/json` body, whose
    /// values have no line of their own): each one record, or a list of records (decided with
    /// the schema, see [`build_batch`]).
    Json(Vec<(usize, Vec<Json>)>),
}

/// CSV records: every field's text in one buffer, with each record's line number. (One
/// allocation for the text and two for the bounds, however many records and fields.)
#[derive(Debug, Default)]
pub struct CsvRecords {
    text: String,
    /// Byte range of each field in `text`, record after record.
    fields: Vec<(usize, usize)>,
    /// Each record's line number and the end of its fields in `fields`.
    records: Vec<(usize, usize)>,
}

impl CsvRecords {
    /// The number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Each record's line number and fields.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &[(usize, usize)])> + '_ {
        let mut start = 0;
        self.records.iter().map(move |&(line, end)| {
            let fields = &self.fields[start..end];
            start = end;
            (line, fields)
        })
    }

    /// The text of a field returned by [`CsvRecords::iter`].
    pub fn field(&self, (a, b): (usize, usize)) -> &str {
        &self.text[a..b]
    }

    /// Ends the current record (the fields pushed since the last one) at `line`.
    fn end_record(&mut self, line: usize) {
        self.records.push((line, self.fields.len()));
    }
}

impl Records {
    /// The number of records at most (a JSON `data` list of lists may be one record or a
    /// list of records; it counts as the latter here).
    pub fn max_rows(&self) -> usize {
        match self {
            Records::Csv(r) => r.len(),
            Records::Json(d) => d
                .iter()
                .map(|(_, values)| {
                    let all_lists = !values.is_empty() && values.iter().all(Json::is_array);
                    if all_lists { values.len() } else { 1 }
                })
                .sum(),
        }
    }
}

/// Parses a body into its optional schema and its records.
pub fn parse_body(
    format: BodyFormat,
    body: &[u8],
) -> Result<(Option<DataSchema>, Records), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    match format {
        BodyFormat::Csv => parse_csv(body).map(|r| (None, r)),
        BodyFormat::Json => {
            let v: Json = serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!("invalid JSON: {}", shown_message(&e.to_string())))
            })?;
            let (schema, records) = envelope(v, 0)?;
            Ok((schema, Records::Json(records)))
        }
        BodyFormat::JsonLines => {
            let text = std::str::from_utf8(body)
                .map_err(|e| ApiError::bad_request(format!("the body is not UTF-8: {e}")))?;
            let mut schema: Option<DataSchema> = None;
            let mut records = Vec::new();
            let mut first = true;
            for (i, line) in text.lines().enumerate() {
                let line_no = i + 1;
                if line.trim().is_empty() {
                    continue;
                }
                let v: Json = serde_json::from_str(line).map_err(|e| {
                    ApiError::bad_request(format!(
                        "line {line_no}: invalid JSON: {}",
                        shown_message(&e.to_string())
                    ))
                })?;
                let (s, mut r) = envelope(v, line_no)?;
                match (first, s) {
                    (true, s) => schema = s,
                    (false, Some(s)) if Some(&s) != schema.as_ref() => {
                        return Err(ApiError::bad_request(format!(
                            "line {line_no}: a different schema; give the schema once, on the \
                             first line"
                        )));
                    }
                    _ => {}
                }
                first = false;
                records.append(&mut r);
            }
            Ok((schema, Records::Json(records)))
        }
    }
}

fn parse_csv(body: &[u8]) -> Result<Records, ApiError> {
    parse_plain_csv(body).unwrap_or_else(|| parse_full_csv(body))
}

/// Any CSV body, through the `csv` crate (RFC 4180 quoting).
fn parse_full_csv(body: &[u8]) -> Result<Records, ApiError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut out = CsvRecords {
        text: String::with_capacity(body.len()),
        ..CsvRecords::default()
    };
    for r in reader.records() {
        let r = r.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            ApiError::bad_request(format!(
                "line {line}: unreadable CSV: {}",
                shown_message(&e.to_string())
            ))
        })?;
        if r.len() == 1 && r[0].trim().is_empty() {
            continue;
        }
        let line = r
            .position()
            .map(|p| p.line() as usize)
            .unwrap_or(out.len() + 1);
        for f in &r {
            let start = out.text.len();
            out.text.push_str(f);
            out.fields.push((start, out.text.len()));
        }
        out.end_record(line);
    }
    if out.is_empty() {
        return Err(ApiError::bad_request("the CSV body has no records"));
    }
    Ok(Records::Csv(out))
}

/// The common case without the `csv` crate: a UTF-8 body with no quotes and no bare `\r` is
/// one record per line, fields split on `,` — exactly what RFC 4180 reads from it. Building a
/// `csv::Reader` compiles its parser tables on every call, which cost more than scoring a
/// one-record request; bodies that need the full parser (quotes, old-Mac line ends, invalid
/// UTF-8) go to it (`None`).
fn parse_plain_csv(body: &[u8]) -> Option<Result<Records, ApiError>> {
    if body.contains(&b'"')
        || body
            .iter()
            .enumerate()
            .any(|(i, b)| *b == b'\r' && body.get(i + 1) != Some(&b'\n'))
    {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let mut out = CsvRecords {
        text: text.to_owned(),
        ..CsvRecords::default()
    };
    let mut start = 0;
    for (i, line) in text.split('\n').enumerate() {
        let end = start + line.len();
        let trimmed = line.strip_suffix('\r').unwrap_or(line);
        if !trimmed.trim().is_empty() {
            let mut at = start;
            for f in trimmed.split(',') {
                out.fields.push((at, at + f.len()));
                at += f.len() + 1;
            }
            out.end_record(i + 1);
        }
        start = end + 1;
    }
    Some(if out.is_empty() {
        Err(ApiError::bad_request("the CSV body has no records"))
    } else {
        Ok(Records::Csv(out))
    })
}

/// A line's `data` lists, with line numbers.
type DataLists = Vec<(usize, Vec<Json>)>;

/// Where a message points: `line 3: ` in a JSON-lines body, nothing for an `application/json`
/// body (line 0), whose values carry no line of their own.
fn line_prefix(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!("line {line}: ")
    }
}

/// A JSON value as quoted in a message (see [`Shown`]).
fn json_shown(v: &Json) -> String {
    Shown(&v.to_string()).to_string()
}

/// `{"schema"?: .., "data": [..]}` → its schema and data.
fn envelope(v: Json, line: usize) -> Result<(Option<DataSchema>, DataLists), ApiError> {
    let at = line_prefix(line);
    let Json::Object(mut m) = v else {
        return Err(ApiError::bad_request(format!(
            "{at}expected an object {{\"schema\": .., \"data\": [..]}}"
        )));
    };
    if let Some(k) = m.keys().find(|k| *k != "schema" && *k != "data") {
        return Err(ApiError::bad_request(format!(
            "{at}unknown key '{}' (expected \"schema\" and \"data\")",
            Shown(k)
        )));
    }
    let schema = match m.remove("schema") {
        None | Some(Json::Null) => None,
        Some(s) => Some(serde_json::from_value(s).map_err(|e| {
            ApiError::bad_request(format!(
                "{at}invalid schema: {}",
                shown_message(&e.to_string())
            ))
        })?),
    };
    let data = match m.remove("data") {
        Some(Json::Array(d)) => d,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "{at}\"data\" must be a list of values, found {}",
                json_shown(&other)
            )));
        }
        None => return Err(ApiError::bad_request(format!("{at}no \"data\""))),
    };
    Ok((schema, vec![(line, data)]))
}

/// True when `values` has the shape of one record of `cols` (a list where a column is a
/// vector or array, a scalar elsewhere).
fn fits_record(values: &[Json], cols: &[Column]) -> bool {
    values.len() == cols.len()
        && values.iter().zip(cols).all(|(v, c)| match c.structure {
            Structure::Basic => !v.is_array() && !v.is_object(),
            _ => v.is_array() || v.is_string() || v.is_null(),
        })
}

/// Splits each line's `data` into records: one record when it has the shape of one; else a
/// list of records when every element is a list; else one record (whose mismatch is then
/// reported column by column).
fn expand(data: &[(usize, Vec<Json>)], cols: &[Column]) -> Vec<(usize, Vec<Json>)> {
    let mut out = Vec::new();
    for (line, values) in data {
        let all_lists = !values.is_empty() && values.iter().all(Json::is_array);
        if fits_record(values, cols) || !all_lists {
            out.push((*line, values.clone()));
        } else {
            out.extend(
                values
                    .iter()
                    .map(|v| (*line, v.as_array().cloned().unwrap_or_default())),
            );
        }
    }
    out
}

/// A string column built straight into its Arrow buffers. (Arrow's `StringBuilder::finish`
/// allocates fresh buffers so the builder can be reused; a request's builders never are, and
/// at one record per request that was most of the cost of building the batch.)
struct Utf8Column {
    offsets: Vec<i32>,
    values: Vec<u8>,
    /// Validity, allocated at the first null.
    valid: Option<Vec<bool>>,
}

impl Utf8Column {
    fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Self {
            offsets,
            values: Vec::with_capacity(bytes),
            valid: None,
        }
    }

    fn append_value(&mut self, s: &str) -> R {
        self.values.extend_from_slice(s.as_bytes());
        let end = i32::try_from(self.values.len())
            .map_err(|_| "more than 2 GiB of text in one column".to_string())?;
        self.offsets.push(end);
        if let Some(v) = &mut self.valid {
            v.push(true);
        }
        Ok(())
    }

    fn append_null(&mut self) {
        let rows = self.offsets.len() - 1;
        let end = *self.offsets.last().unwrap_or(&0);
        self.offsets.push(end);
        self.valid
            .get_or_insert_with(|| vec![true; rows])
            .push(false);
    }

    fn finish(self) -> ArrayRef {
        // offsets are non-decreasing and end at values.len(); values are whole `str`s
        Arc::new(StringArray::new(
            OffsetBuffer::new(ScalarBuffer::from(self.offsets)),
            Buffer::from_vec(self.values),
            self.valid.map(NullBuffer::from),
        ))
    }
}

/// Builds a column of one type from text or JSON values.
enum Builder {
    Boolean(BooleanBuilder),
    Byte(Int8Builder),
    Short(Int16Builder),
    Int(Int32Builder),
    Long(Int64Builder),
    Float(Float32Builder),
    Double(Float64Builder),
    String(Utf8Column),
    Vector(VectorBuilder),
    Array {
        items: Box<Builder>,
        offsets: Vec<i32>,
        valid: Vec<bool>,
        field: Arc<Field>,
    },
}

type R = Result<(), String>;

fn parse_int(s: &str, ty: BasicType) -> Result<i64, String> {
    let t = s.trim();
    let v: i64 = t
        .parse()
        .map_err(|_| format!("expected {}, got '{}'", type_name(ty), Shown(s)))?;
    let (lo, hi) = match ty {
        BasicType::Byte => (i8::MIN as i64, i8::MAX as i64),
        BasicType::Short => (i16::MIN as i64, i16::MAX as i64),
        BasicType::Int => (i32::MIN as i64, i32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    };
    if v < lo || v > hi {
        return Err(format!("{v} is out of range for {}", type_name(ty)));
    }
    Ok(v)
}

fn parse_float(s: &str, ty: BasicType) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .map_err(|_| format!("expected {}, got '{}'", type_name(ty), Shown(s)))
}

fn type_name(ty: BasicType) -> &'static str {
    match ty {
        BasicType::Boolean => "a boolean (true or false)",
        BasicType::Byte => "a byte",
        BasicType::Short => "a short",
        BasicType::Int => "an int",
        BasicType::Long => "a long",
        BasicType::Float => "a float",
        BasicType::Double => "a double",
        BasicType::String => "a string",
    }
}

impl Builder {
    fn new(ty: BasicType, structure: Structure, rows: usize) -> Self {
        match structure {
            Structure::Vector => Builder::Vector(VectorBuilder::with_capacity(rows, 8)),
            Structure::Array => {
                let mut offsets = Vec::with_capacity(rows + 1);
                offsets.push(0);
                Builder::Array {
                    items: Box::new(Builder::new(ty, Structure::Basic, rows * 4)),
                    offsets,
                    valid: Vec::with_capacity(rows),
                    field: Arc::new(Field::new("element", ty.arrow(), true)),
                }
            }
            Structure::Basic => match ty {
                BasicType::Boolean => Builder::Boolean(BooleanBuilder::with_capacity(rows)),
                BasicType::Byte => Builder::Byte(Int8Builder::with_capacity(rows)),
                BasicType::Short => Builder::Short(Int16Builder::with_capacity(rows)),
                BasicType::Int => Builder::Int(Int32Builder::with_capacity(rows)),
                BasicType::Long => Builder::Long(Int64Builder::with_capacity(rows)),
                BasicType::Float => Builder::Float(Float32Builder::with_capacity(rows)),
                BasicType::Double => Builder::Double(Float64Builder::with_capacity(rows)),
                BasicType::String => Builder::String(Utf8Column::with_capacity(rows, rows * 8)),
            },
        }
    }

    fn push_null(&mut self) {
        match self {
            Builder::Boolean(b) => b.append_null(),
            Builder::Byte(b) => b.append_null(),
            Builder::Short(b) => b.append_null(),
            Builder::Int(b) => b.append_null(),
            Builder::Long(b) => b.append_null(),
            Builder::Float(b) => b.append_null(),
            Builder::Double(b) => b.append_null(),
            Builder::String(b) => b.append_null(),
            Builder::Vector(b) => b.push_null(),
            Builder::Array { offsets, valid, .. } => {
                offsets.push(*offsets.last().unwrap_or(&0));
                valid.push(false);
            }
        }
    }

    /// Appends a value given as text (a CSV field, or a JSON string for a non-string column).
    /// An empty field is null whatever the column's type, as Spark's CSV reader reads an empty
    /// field, quoted (`""`) or not (its `nullValue` and `emptyValue` are both `""`; checked
    /// with Spark 4.0.1); `ember score`'s CSV reader does the same.
    fn push_text(&mut self, s: &str) -> R {
        if s.is_empty() {
            self.push_null();
            return Ok(());
        }
        match self {
            Builder::Boolean(b) => {
                let t = s.trim();
                if t.eq_ignore_ascii_case("true") {
                    b.append_value(true)
                } else if t.eq_ignore_ascii_case("false") {
                    b.append_value(false)
                } else {
                    return Err(format!(
                        "expected a boolean (true or false), got '{}'",
                        Shown(s)
                    ));
                }
            }
            Builder::Byte(b) => b.append_value(parse_int(s, BasicType::Byte)? as i8),
            Builder::Short(b) => b.append_value(parse_int(s, BasicType::Short)? as i16),
            Builder::Int(b) => b.append_value(parse_int(s, BasicType::Int)? as i32),
            Builder::Long(b) => b.append_value(parse_int(s, BasicType::Long)?),
            Builder::Float(b) => b.append_value(parse_float(s, BasicType::Float)? as f32),
            Builder::Double(b) => b.append_value(parse_float(s, BasicType::Double)?),
            Builder::String(b) => b.append_value(s)?,
            Builder::Vector(b) => parse_vector(s, b).map_err(|e| {
                format!("expected a vector ([1.0,2.0] or (size,[indices],[values])): {e}")
            })?,
            Builder::Array { .. } => {
                let v: Json = serde_json::from_str(s)
                    .map_err(|_| format!("expected an array such as [1,2], got '{}'", Shown(s)))?;
                self.push_json(&v)?;
            }
        }
        Ok(())
    }

    fn push_json(&mut self, v: &Json) -> R {
        if v.is_null() {
            self.push_null();
            return Ok(());
        }
        match self {
            Builder::Boolean(b) => match v {
                Json::Bool(x) => b.append_value(*x),
                Json::String(s) => return self.push_text(s),
                other => {
                    return Err(format!(
                        "expected a boolean (true or false), got {}",
                        json_shown(other)
                    ));
                }
            },
            Builder::Byte(_) | Builder::Short(_) | Builder::Int(_) | Builder::Long(_) => {
                let ty = match self {
                    Builder::Byte(_) => BasicType::Byte,
                    Builder::Short(_) => BasicType::Short,
                    Builder::Int(_) => BasicType::Int,
                    _ => BasicType::Long,
                };
                let n = match v {
                    Json::Number(n) => match n.as_i64() {
                        Some(i) => parse_int(&i.to_string(), ty)?,
                        None => {
                            let n = n.to_string();
                            return Err(format!("expected {}, got {}", type_name(ty), Shown(&n)));
                        }
                    },
                    Json::String(s) => parse_int(s, ty)?,
                    other => {
                        return Err(format!(
                            "expected {}, got {}",
                            type_name(ty),
                            json_shown(other)
                        ));
                    }
                };
                match self {
                    Builder::Byte(b) => b.append_value(n as i8),
                    Builder::Short(b) => b.append_value(n as i16),
                    Builder::Int(b) => b.append_value(n as i32),
                    Builder::Long(b) => b.append_value(n),
                    _ => unreachable_builder(),
                }
            }
            Builder::Float(_) | Builder::Double(_) => {
                let ty = if matches!(self, Builder::Float(_)) {
                    BasicType::Float
                } else {
                    BasicType::Double
                };
                let x = match v {
                    Json::Number(n) => n
                        .as_f64()
                        .ok_or_else(|| format!("{} is not a number", Shown(&n.to_string())))?,
                    Json::String(s) => parse_float(s, ty)?,
                    other => {
                        return Err(format!(
                            "expected {}, got {}",
                            type_name(ty),
                            json_shown(other)
                        ));
                    }
                };
                match self {
                    Builder::Float(b) => b.append_value(x as f32),
                    Builder::Double(b) => b.append_value(x),
                    _ => unreachable_builder(),
                }
            }
            Builder::String(b) => match v {
                Json::String(s) => b.append_value(s)?,
                Json::Number(n) => b.append_value(&n.to_string())?,
                Json::Bool(x) => b.append_value(if *x { "true" } else { "false" })?,
                other => return Err(format!("expected a string, got {}", json_shown(other))),
            },
            Builder::Vector(b) => match v {
                Json::Array(items) => {
                    let row = b.dense_row(items.len());
                    for (slot, item) in row.iter_mut().zip(items) {
                        *slot = match item {
                            Json::Number(n) => n.as_f64().unwrap_or(f64::NAN),
                            Json::String(s) => parse_float(s, BasicType::Double)?,
                            other => {
                                return Err(format!(
                                    "a vector holds numbers, got {}",
                                    json_shown(other)
                                ));
                            }
                        };
                    }
                }
                Json::String(s) => return self.push_text(s),
                other => {
                    return Err(format!(
                        "expected a vector (a list of numbers), got {}",
                        json_shown(other)
                    ));
                }
            },
            Builder::Array {
                items,
                offsets,
                valid,
                ..
            } => match v {
                Json::Array(values) => {
                    for x in values {
                        items.push_json(x)?;
                    }
                    let last = *offsets.last().unwrap_or(&0);
                    offsets.push(last + values.len() as i32);
                    valid.push(true);
                }
                Json::String(s) => return self.push_text(s),
                other => {
                    return Err(format!(
                        "expected an array (a list), got {}",
                        json_shown(other)
                    ));
                }
            },
        }
        Ok(())
    }

    fn finish(self) -> ArrayRef {
        match self {
            Builder::Boolean(mut b) => Arc::new(b.finish()),
            Builder::Byte(mut b) => Arc::new(b.finish()),
            Builder::Short(mut b) => Arc::new(b.finish()),
            Builder::Int(mut b) => Arc::new(b.finish()),
            Builder::Long(mut b) => Arc::new(b.finish()),
            Builder::Float(mut b) => Arc::new(b.finish()),
            Builder::Double(mut b) => Arc::new(b.finish()),
            Builder::String(b) => b.finish(),
            Builder::Vector(b) => b.finish_array(),
            Builder::Array {
                items,
                offsets,
                valid,
                field,
            } => {
                let nulls = valid.iter().any(|v| !v).then(|| NullBuffer::from(valid));
                Arc::new(ListArray::new(
                    field,
                    OffsetBuffer::new(ScalarBuffer::from(offsets)),
                    items.finish(),
                    nulls,
                ))
            }
        }
    }
}

fn unreachable_builder() {
    debug_assert!(false, "builder kinds are matched above");
}

/// Types the records by `prepared`'s input columns into one batch.
pub fn build_batch(records: &Records, prepared: &Prepared) -> Result<RecordBatch, ApiError> {
    build_batches(&[records], prepared)
        .map(|(batch, _)| batch)
        .map_err(|(_, e)| e)
}

/// Types the records of several requests into one batch, request after request, returning it
/// with the number of rows each request contributed. An error carries the index (in `parts`)
/// of the request whose records are wrong, and names the line, record and column within it.
pub fn build_batches(
    parts: &[&Records],
    prepared: &Prepared,
) -> Result<(RecordBatch, Vec<usize>), (usize, ApiError)> {
    let cols = &prepared.input;
    let expanded: Vec<Vec<(usize, Vec<Json>)>> = parts
        .iter()
        .map(|records| match records {
            Records::Json(d) => expand(d, cols),
            Records::Csv(_) => Vec::new(),
        })
        .collect();
    let counts: Vec<usize> = parts
        .iter()
        .zip(&expanded)
        .map(|(records, expanded)| match records {
            Records::Csv(r) => r.len(),
            Records::Json(_) => expanded.len(),
        })
        .collect();
    let rows = counts.iter().sum();
    let mut builders: Vec<Builder> = cols
        .iter()
        .map(|c| Builder::new(c.ty, c.structure, rows))
        .collect();
    // "line 2, record 3" (CSV, JSON lines), or "record 3" (an application/json body)
    let place = |line: usize, record: usize| {
        if line == 0 {
            format!("record {record}")
        } else {
            format!("line {line}, record {record}")
        }
    };
    let arity = |line: usize, record: usize, n: usize| {
        // the first names only: a wide schema must not make a wide message
        let mut names = String::new();
        for c in cols.iter() {
            if names.len() > 200 {
                names.push_str(", …");
                break;
            }
            if !names.is_empty() {
                names.push_str(", ");
            }
            let _ = std::fmt::Write::write_fmt(&mut names, format_args!("{}", Shown(&c.name)));
        }
        ApiError::bad_request(format!(
            "{}: {n} values, but the schema has {} input columns ({names})",
            place(line, record),
            cols.len(),
        ))
    };
    let value_err = |line: usize, record: usize, c: &Column, e: String| {
        ApiError::bad_request(format!(
            "{}, column '{}': {e}",
            place(line, record),
            Shown(&c.name)
        ))
    };
    for (part, (records, expanded)) in parts.iter().zip(&expanded).enumerate() {
        match records {
            Records::Csv(rs) => {
                for (k, (line, r)) in rs.iter().enumerate() {
                    if r.len() != cols.len() {
                        return Err((part, arity(line, k + 1, r.len())));
                    }
                    for ((b, c), field) in builders.iter_mut().zip(cols).zip(r) {
                        b.push_text(rs.field(*field))
                            .map_err(|e| (part, value_err(line, k + 1, c, e)))?;
                    }
                }
            }
            Records::Json(_) => {
                for (k, (line, values)) in expanded.iter().enumerate() {
                    if values.len() != cols.len() {
                        return Err((part, arity(*line, k + 1, values.len())));
                    }
                    for ((b, c), v) in builders.iter_mut().zip(cols).zip(values) {
                        b.push_json(v)
                            .map_err(|e| (part, value_err(*line, k + 1, c, e)))?;
                    }
                }
            }
        }
    }
    let schema = Arc::clone(prepared.compiled.input_schema());
    let columns: Vec<ArrayRef> = builders.into_iter().map(Builder::finish).collect();
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    let batch = RecordBatch::try_new_with_options(schema, columns, &options).map_err(|e| {
        (
            0,
            ApiError::internal(format!("building the request batch: {e}")),
        )
    })?;
    Ok((batch, counts))
}

/// The Arrow schema for input columns (for tests and tools).
pub fn arrow_schema(cols: &[Column]) -> Schema {
    Schema::new(
        cols.iter()
            .map(|c| Field::new(&c.name, c.arrow(), true))
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(r: Result<Records, ApiError>) -> Vec<Vec<String>> {
        match r {
            Ok(Records::Csv(v)) => v
                .iter()
                .map(|(_, r)| r.iter().map(|f| v.field(*f).to_string()).collect())
                .collect(),
            Ok(_) => panic!("not CSV records"),
            Err(_) => Vec::new(),
        }
    }

    #[test]
    fn plain_csv_reads_what_the_csv_crate_reads() {
        for body in [
            "low,med,4,2,big,high",
            "a,b\n\nc,d\n",
            "a,b\r\nc,,d\r\n  \n e , f ",
            ",\n,,\n",
            "x\n\n\n",
            "\u{e9}t\u{e9},caf\u{e9}",
        ] {
            let plain = parse_plain_csv(body.as_bytes()).expect("plain path applies");
            assert_eq!(
                records(plain),
                records(parse_full_csv(body.as_bytes())),
                "{body:?}"
            );
        }
        // line numbers are physical lines (the csv crate does not count skipped empty lines)
        let Some(Ok(Records::Csv(r))) = parse_plain_csv(b"a\n\nb") else {
            panic!("plain path")
        };
        assert_eq!(r.iter().map(|(n, _)| n).collect::<Vec<_>>(), vec![1, 3]);
        // quotes and bare carriage returns need the full parser
        assert!(parse_plain_csv(b"\"a,b\",c").is_none());
        assert!(parse_plain_csv(b"a\rb").is_none());
        assert!(parse_plain_csv(&[0xff, b',', b'a']).is_none());
    }
}
