//! Rendering the output column as the SageMaker container does.
//!
//! * `basic`: the value's Java `toString` (`1.0E7`, `0.1`, `true`, `abc`), unquoted, for every
//!   Accept (a jsonlines Accept still gets the bare value).
//! * `vector`/`array` with `text/csv`: the elements joined by `,` (vectors dense, zeros
//!   included; strings unquoted).
//! * with `application/jsonlines`: `{"features":[..]}` (numbers as JSON numbers in Java's
//!   format, NaN and infinities as strings).
//! * with `application/jsonlines;data=text`: `{"source":"<elements joined by a space>"}`.
//!
//! One line per input record, joined by `\n` with no trailing newline (so a single record is
//! byte-identical to the container's answer). A record a `skip` stage dropped, or a null
//! output, renders as an empty line.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;
use ember_engine::io::CellWriter;
use ember_udfs::java_fmt::write_java_double;
use ember_udfs::vector::{VectorArray, is_vector_type};

use super::contract::{Accept, Structure};
use super::error::ApiError;

fn json_number(out: &mut String, x: f64) {
    if x.is_finite() {
        write_java_double(out, x);
    } else {
        out.push('"');
        write_java_double(out, x);
        out.push('"');
    }
}

fn json_string(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

/// Renders `column` (the output column of a scored batch) for `records` input records, where
/// `rows` gives the input record of each output row when a stage dropped some.
pub fn render(
    column: &ArrayRef,
    rows: Option<&[usize]>,
    records: usize,
    accept: Accept,
    structure: Structure,
) -> Result<String, ApiError> {
    let err = |e: ember_engine::EmberError| ApiError::internal(format!("rendering: {e}"));
    let cell = CellWriter::new(column).map_err(err)?;
    let vectors = if is_vector_type(column.data_type()) {
        Some(VectorArray::try_new(column.as_ref()).map_err(|e| ApiError::internal(e.to_string()))?)
    } else {
        None
    };
    let mut out = String::with_capacity(records * 16);
    let mut next = 0usize; // next output row
    let mut element = String::new();
    for record in 0..records {
        if record > 0 {
            out.push('\n');
        }
        let row = match rows {
            None => record,
            Some(r) => {
                if r.get(next) != Some(&record) {
                    continue; // dropped by a skip stage: empty line
                }
                next += 1;
                next - 1
            }
        };
        if column.is_null(row) {
            continue;
        }
        if structure == Structure::Basic {
            cell.text(row, &mut out).map_err(err)?;
            continue;
        }
        // vector or array: the elements
        let mut texts: Vec<String> = Vec::new();
        let mut json_items: Vec<String> = Vec::new();
        if let Some(va) = &vectors {
            let v = va
                .value(row)
                .map_err(|e| ApiError::internal(e.to_string()))?
                .map(|v| v.to_dense())
                .unwrap_or_default();
            for x in v {
                element.clear();
                write_java_double(&mut element, x);
                texts.push(element.clone());
                element.clear();
                json_number(&mut element, x);
                json_items.push(element.clone());
            }
        } else {
            let items: ArrayRef = match column.data_type() {
                DataType::List(_) => column.as_list::<i32>().value(row),
                DataType::LargeList(_) => column.as_list::<i64>().value(row),
                t => return Err(ApiError::internal(format!("cannot render {t} as a list"))),
            };
            let inner = CellWriter::new(&items).map_err(err)?;
            for i in 0..items.len() {
                element.clear();
                inner.text(i, &mut element).map_err(err)?;
                texts.push(element.clone());
                element.clear();
                inner.json(i, &mut element).map_err(err)?;
                json_items.push(element.clone());
            }
        }
        match accept {
            Accept::Csv => out.push_str(&texts.join(",")),
            Accept::JsonLines => {
                out.push_str("{\"features\":[");
                out.push_str(&json_items.join(","));
                out.push_str("]}");
            }
            Accept::JsonLinesText => {
                out.push_str("{\"source\":");
                json_string(&mut out, &texts.join(" "));
                out.push('}');
            }
        }
    }
    Ok(out)
}
