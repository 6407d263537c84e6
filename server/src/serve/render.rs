//! Rendering the output column as the SageMaker container does.
//!
//! * `basic`: the value's Java `toString` (`1.0E7`, `0.1`, `true`, `abc`), unquoted, for every
//!   Accept (a jsonlines Accept still gets the bare value).
//! * `vector`/`array` with `text/csv`: the elements joined by `,` (vectors dense, zeros
//!   included; strings unquoted). An array of vectors (LSH) renders each vector densified in
//!   brackets (`[1.0,0.0],[2.0]`; JSON: `{"features":[[1.0,0.0],[2.0]]}`): the container has no
//!   rule for nested vectors, so each is written as a top-level vector would be.
//! * with `application/jsonlines`: `{"features":[..]}` (numbers as JSON numbers in Java's
//!   format, NaN and infinities as strings).
//! * with `application/jsonlines;data=text`: `{"source":"<elements joined by a space>"}`.
//!
//! A sparse vector whose size is above [`RenderLimits::max_dense_size`] is not densified (the
//! container's `toDense` would write every zero): it renders as Spark's `Vector.toString`,
//! `(size,[indices],[values])`, with `text/csv` and `data=text`, and as
//! `{"features":{"size":n,"indices":[..],"values":[..]}}` with `application/jsonlines`.
//!
//! One line per input record, joined by `\n` with no trailing newline (so a single record is
//! byte-identical to the container's answer). A record a `skip` stage dropped, or a null
//! output, renders as an empty line. An answer longer than [`RenderLimits::max_response_bytes`]
//! is not finished: it is a 413 naming the limit.

use std::fmt::Write;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;
use ember_engine::io::CellWriter;
use ember_udfs::java_fmt::write_java_double;
use ember_udfs::vector::{VectorArray, VectorRef, is_vector_type};

use super::contract::{Accept, Structure};
use super::error::ApiError;

/// The default [`RenderLimits::max_dense_size`] (`--max-dense-output-size`).
pub const DEFAULT_MAX_DENSE_SIZE: usize = 65_536;
/// The default [`RenderLimits::max_response_bytes`] (`--max-response-mb`), in MiB.
pub const DEFAULT_MAX_RESPONSE_MB: usize = 64;

/// Bounds on what an answer may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderLimits {
    /// Sparse vectors up to this size render dense, as the container renders every vector;
    /// larger ones render in a sparse form.
    pub max_dense_size: usize,
    /// The longest answer body, in bytes; a longer one is a 413.
    pub max_response_bytes: usize,
}

impl Default for RenderLimits {
    fn default() -> Self {
        Self {
            max_dense_size: DEFAULT_MAX_DENSE_SIZE,
            max_response_bytes: DEFAULT_MAX_RESPONSE_MB * 1024 * 1024,
        }
    }
}

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

fn too_long(limits: &RenderLimits) -> ApiError {
    ApiError {
        status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        message: format!(
            "the answer would be longer than the limit of {} bytes (--max-response-mb); send \
             fewer records per request",
            limits.max_response_bytes
        ),
    }
}

/// Writes a vector's elements, every one (zeros included), separated by `sep`, each through
/// `one`; checks the answer's length as it grows.
fn dense_elements(
    out: &mut String,
    v: &VectorRef<'_>,
    sep: char,
    one: fn(&mut String, f64),
    limits: &RenderLimits,
) -> Result<(), ApiError> {
    let (ix, vs): (&[i32], &[f64]) = match v {
        VectorRef::Dense(_) => (&[], &[]),
        VectorRef::Sparse {
            indices, values, ..
        } => (indices, values),
    };
    let mut stored = ix.iter().zip(vs);
    let mut next = stored.next();
    for i in 0..v.size() {
        if i > 0 {
            out.push(sep);
        }
        let x = match v {
            VectorRef::Dense(values) => values[i],
            VectorRef::Sparse { .. } => match next {
                Some((ix, x)) if *ix as usize == i => {
                    next = stored.next();
                    *x
                }
                _ => 0.0,
            },
        };
        one(out, x);
        if out.len() > limits.max_response_bytes {
            return Err(too_long(limits));
        }
    }
    Ok(())
}

/// Writes a sparse vector as Spark's `(size,[indices],[values])`, or as the JSON object
/// `{"size":n,"indices":[..],"values":[..]}`.
fn sparse_vector(
    out: &mut String,
    size: usize,
    indices: &[i32],
    values: &[f64],
    json: bool,
    limits: &RenderLimits,
) -> Result<(), ApiError> {
    if json {
        let _ = write!(out, "{{\"size\":{size},\"indices\":[");
    } else {
        let _ = write!(out, "({size},[");
    }
    for (k, i) in indices.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let _ = write!(out, "{i}");
    }
    out.push_str(if json { "],\"values\":[" } else { "],[" });
    for (k, x) in values.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        if json {
            json_number(out, *x);
        } else {
            write_java_double(out, *x);
        }
        if out.len() > limits.max_response_bytes {
            return Err(too_long(limits));
        }
    }
    out.push_str(if json { "]}" } else { "])" });
    Ok(())
}

/// Writes a vector in brackets: `[elements]` (zeros included), or a sparse vector larger than
/// the dense limit as `{"size":n,"indices":[..],"values":[..]}` (`json`) or
/// `(size,[indices],[values])` (text, as inside an array).
fn bracketed_vector(
    out: &mut String,
    v: &VectorRef<'_>,
    json: bool,
    limits: &RenderLimits,
) -> Result<(), ApiError> {
    match *v {
        VectorRef::Sparse {
            size,
            indices,
            values,
        } if size > limits.max_dense_size => {
            sparse_vector(out, size, indices, values, json, limits)
        }
        _ => {
            out.push('[');
            let number: fn(&mut String, f64) = if json { json_number } else { write_java_double };
            dense_elements(out, v, ',', number, limits)?;
            out.push(']');
            Ok(())
        }
    }
}

/// Renders one vector for `accept`.
fn vector(
    out: &mut String,
    v: &VectorRef<'_>,
    accept: Accept,
    limits: &RenderLimits,
) -> Result<(), ApiError> {
    // the text forms (Spark's sparse text, Java's number text) hold no character JSON needs
    // escaped
    let text = |out: &mut String, sep: char| match *v {
        VectorRef::Sparse {
            size,
            indices,
            values,
        } if size > limits.max_dense_size => {
            sparse_vector(out, size, indices, values, false, limits)
        }
        _ => dense_elements(out, v, sep, write_java_double, limits),
    };
    match accept {
        Accept::Csv => text(out, ','),
        Accept::JsonLines => {
            out.push_str("{\"features\":");
            bracketed_vector(out, v, true, limits)?;
            out.push('}');
            Ok(())
        }
        Accept::JsonLinesText => {
            out.push_str("{\"source\":\"");
            text(out, ' ')?;
            out.push_str("\"}");
            Ok(())
        }
    }
}

/// Renders `column` (the output column of a scored batch) for `records` input records, where
/// `rows` gives the input record of each output row when a stage dropped some.
pub fn render(
    column: &ArrayRef,
    rows: Option<&[usize]>,
    records: usize,
    accept: Accept,
    structure: Structure,
    limits: &RenderLimits,
) -> Result<String, ApiError> {
    let err = |e: ember_engine::EmberError| ApiError::internal(format!("rendering: {e}"));
    let cell = CellWriter::new(column).map_err(err)?;
    let vectors = if is_vector_type(column.data_type()) {
        Some(VectorArray::try_new(column.as_ref()).map_err(|e| ApiError::internal(e.to_string()))?)
    } else {
        None
    };
    let mut out = String::with_capacity((records * 16).min(limits.max_response_bytes));
    let mut next = 0usize; // next output row
    let mut element = String::new();
    let mut line = String::new();
    for record in 0..records {
        if out.len() > limits.max_response_bytes {
            return Err(too_long(limits));
        }
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
        if let Some(va) = &vectors {
            if let Some(v) = va
                .value(row)
                .map_err(|e| ApiError::internal(e.to_string()))?
            {
                vector(&mut out, &v, accept, limits)?;
            } else {
                vector(&mut out, &VectorRef::Dense(&[]), accept, limits)?;
            }
            continue;
        }
        let items: ArrayRef = match column.data_type() {
            DataType::List(_) => column.as_list::<i32>().value(row),
            DataType::LargeList(_) => column.as_list::<i64>().value(row),
            t => return Err(ApiError::internal(format!("cannot render {t} as a list"))),
        };
        let inner = CellWriter::new(&items).map_err(err)?;
        // an array of vectors (LSH): each element densified as a top-level vector is, in
        // brackets (`[1.0,0.0]`; JSON: `[1.0,0.0]`), or past the dense limit in its sparse form
        let item_vectors = if is_vector_type(items.data_type()) {
            Some(
                VectorArray::try_new(items.as_ref())
                    .map_err(|e| ApiError::internal(e.to_string()))?,
            )
        } else {
            None
        };
        let item_vector = |i: usize| match &item_vectors {
            Some(va) => va.value(i).map_err(|e| ApiError::internal(e.to_string())),
            None => Ok(None),
        };
        match accept {
            Accept::Csv => {
                for i in 0..items.len() {
                    if i > 0 {
                        out.push(',');
                    }
                    match item_vector(i)? {
                        Some(v) => bracketed_vector(&mut out, &v, false, limits)?,
                        None => inner.text(i, &mut out).map_err(err)?,
                    }
                    if out.len() > limits.max_response_bytes {
                        return Err(too_long(limits));
                    }
                }
            }
            Accept::JsonLines => {
                out.push_str("{\"features\":[");
                for i in 0..items.len() {
                    if i > 0 {
                        out.push(',');
                    }
                    match item_vector(i)? {
                        Some(v) => bracketed_vector(&mut out, &v, true, limits)?,
                        None => inner.json(i, &mut out).map_err(err)?,
                    }
                    if out.len() > limits.max_response_bytes {
                        return Err(too_long(limits));
                    }
                }
                out.push_str("]}");
            }
            Accept::JsonLinesText => {
                line.clear();
                for i in 0..items.len() {
                    if i > 0 {
                        line.push(' ');
                    }
                    element.clear();
                    match item_vector(i)? {
                        Some(v) => bracketed_vector(&mut element, &v, false, limits)?,
                        None => inner.text(i, &mut element).map_err(err)?,
                    }
                    line.push_str(&element);
                    if out.len() + line.len() > limits.max_response_bytes {
                        return Err(too_long(limits));
                    }
                }
                out.push_str("{\"source\":");
                json_string(&mut out, &line);
                out.push('}');
            }
        }
    }
    if out.len() > limits.max_response_bytes {
        return Err(too_long(limits));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ember_udfs::vector::VectorBuilder;

    fn one(v: impl FnOnce(&mut VectorBuilder), accept: Accept, limits: RenderLimits) -> String {
        let mut b = VectorBuilder::default();
        v(&mut b);
        render(
            &b.finish_array(),
            None,
            1,
            accept,
            Structure::Vector,
            &limits,
        )
        .unwrap()
    }

    #[test]
    fn small_sparse_vectors_render_dense_as_the_container_does() {
        let l = RenderLimits::default();
        let sparse = |b: &mut VectorBuilder| b.push_sparse(4, &[1, 3], &[7.0, -0.5]);
        assert_eq!(one(sparse, Accept::Csv, l), "0.0,7.0,0.0,-0.5");
        assert_eq!(
            one(sparse, Accept::JsonLines, l),
            "{\"features\":[0.0,7.0,0.0,-0.5]}"
        );
        assert_eq!(
            one(sparse, Accept::JsonLinesText, l),
            "{\"source\":\"0.0 7.0 0.0 -0.5\"}"
        );
        let dense = |b: &mut VectorBuilder| b.push_dense(&[1.0, f64::NAN]);
        assert_eq!(
            one(dense, Accept::JsonLines, l),
            "{\"features\":[1.0,\"NaN\"]}"
        );
    }

    #[test]
    fn large_sparse_vectors_stay_sparse() {
        let l = RenderLimits {
            max_dense_size: 3,
            ..RenderLimits::default()
        };
        let sparse = |b: &mut VectorBuilder| b.push_sparse(2147483647, &[0, 5], &[1.0, 1e7]);
        assert_eq!(
            one(sparse, Accept::Csv, l),
            "(2147483647,[0,5],[1.0,1.0E7])"
        );
        assert_eq!(
            one(sparse, Accept::JsonLines, l),
            "{\"features\":{\"size\":2147483647,\"indices\":[0,5],\"values\":[1.0,1.0E7]}}"
        );
        assert_eq!(
            one(sparse, Accept::JsonLinesText, l),
            "{\"source\":\"(2147483647,[0,5],[1.0,1.0E7])\"}"
        );
        // at the limit: still dense
        let at = |b: &mut VectorBuilder| b.push_sparse(3, &[2], &[1.0]);
        assert_eq!(one(at, Accept::Csv, l), "0.0,0.0,1.0");
    }

    fn render_one(column: &ArrayRef, accept: Accept, structure: Structure) -> String {
        render(
            column,
            None,
            column.len(),
            accept,
            structure,
            &RenderLimits::default(),
        )
        .unwrap()
    }

    #[test]
    fn integer_outputs_render_as_their_values() {
        let ints: ArrayRef = std::sync::Arc::new(arrow::array::Int32Array::from(vec![
            Some(3),
            None,
            Some(-1),
        ]));
        for accept in [Accept::Csv, Accept::JsonLines, Accept::JsonLinesText] {
            assert_eq!(render_one(&ints, accept, Structure::Basic), "3\n\n-1");
        }
    }

    #[test]
    fn arrays_of_vectors_render_each_vector() {
        use arrow::array::ListArray;
        use arrow::buffer::OffsetBuffer;
        use arrow::datatypes::Field;
        let mut b = VectorBuilder::default();
        b.push_dense(&[1.0, -2.5]);
        b.push_sparse(3, &[1], &[4.0]);
        b.push_dense(&[f64::NAN]);
        let item = Field::new("element", ember_udfs::vector::vector_data_type(), true);
        let lists: ArrayRef = std::sync::Arc::new(ListArray::new(
            std::sync::Arc::new(item),
            OffsetBuffer::new(vec![0, 2, 3].into()),
            b.finish_array(),
            None,
        ));
        assert_eq!(lists.data_type(), &ember_udfs::vector::vector_list_type());
        assert_eq!(
            render_one(&lists, Accept::Csv, Structure::Array),
            "[1.0,-2.5],[0.0,4.0,0.0]\n[NaN]"
        );
        assert_eq!(
            render_one(&lists, Accept::JsonLines, Structure::Array),
            "{\"features\":[[1.0,-2.5],[0.0,4.0,0.0]]}\n{\"features\":[[\"NaN\"]]}"
        );
        assert_eq!(
            render_one(&lists, Accept::JsonLinesText, Structure::Array),
            "{\"source\":\"[1.0,-2.5] [0.0,4.0,0.0]\"}\n{\"source\":\"[NaN]\"}"
        );
    }

    #[test]
    fn answers_over_the_limit_are_413() {
        let l = RenderLimits {
            max_dense_size: 1 << 20,
            max_response_bytes: 1000,
        };
        let mut b = VectorBuilder::default();
        b.push_sparse(1 << 20, &[0], &[1.0]);
        let e = render(
            &b.finish_array(),
            None,
            1,
            Accept::Csv,
            Structure::Vector,
            &l,
        )
        .unwrap_err();
        assert_eq!(e.status.as_u16(), 413);
        assert!(
            e.message.contains("1000 bytes") && e.message.contains("--max-response-mb"),
            "{}",
            e.message
        );
    }
}
