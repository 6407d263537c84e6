//! Conversions at the edges of a pipeline, with Spark's rules.
//!
//! * [`CastToStringUdf`] (`ember_cast_string`): Spark's `CAST(x AS STRING)` for the numeric
//!   inputs a `StringIndexer` accepts: Java's `Double.toString` for doubles (`1.0`, `1.0E7`),
//!   plain digits for integers, `true`/`false` for booleans.
//! * [`ToVectorUdf`] (`ember_to_vector`): any reasonable vector encoding into Spark's VectorUDT
//!   struct: the struct itself (from any writer, any child types), a list or fixed-size list of
//!   numbers (dense), or text in Spark's `Vector.toString` form (`[1.0,2.0]`,
//!   `(5,[1,3],[7.0,9.0])`) as a CSV file holds it.
//! * [`VectorToStringUdf`] (`ember_vector_to_string`): a vector as Spark's `toString` prints it.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int8Array, Int32Array, StringBuilder, StructArray,
};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, FieldRef, Float32Type, Float64Type};
use arrow::util::display::FormatOptions;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::common::{arrays, for_each_str, is_string_type};
use crate::java_fmt::{write_java_double, write_java_float};
use crate::shown::Shown;
use crate::vector::{
    SPARK_MAX_VECTOR_SIZE, VectorArray, VectorBuilder, VectorRef, is_vector_type, max_vector_size,
    vector_data_type, vector_fields,
};

const STRICT: CastOptions<'static> = CastOptions {
    safe: false,
    format_options: FormatOptions::new(),
};

/// True for the types [`CastToStringUdf`] converts.
pub fn castable_to_string(t: &DataType) -> bool {
    t.is_integer()
        || t.is_floating()
        || matches!(
            t,
            DataType::Boolean | DataType::Decimal128(..) | DataType::Decimal256(..)
        )
        || is_string_type(t)
}

/// Spark's cast of a numeric or boolean column to string.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CastToStringUdf {
    signature: Signature,
}

impl Default for CastToStringUdf {
    fn default() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for CastToStringUdf {
    fn name(&self) -> &str {
        "ember_cast_string"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let t = args.arg_fields[0].data_type();
        if !castable_to_string(t) {
            return plan_err!("ember_cast_string: cannot cast {t} to string");
        }
        Ok(Arc::new(Field::new(self.name(), DataType::Utf8, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let a = &input[0];
        let mut out = StringBuilder::with_capacity(a.len(), a.len() * 8);
        let mut buf = String::with_capacity(32);
        match a.data_type() {
            DataType::Float64 => {
                for v in a.as_primitive::<Float64Type>() {
                    match v {
                        Some(v) => {
                            buf.clear();
                            write_java_double(&mut buf, v);
                            out.append_value(&buf);
                        }
                        None => out.append_null(),
                    }
                }
            }
            DataType::Float32 => {
                for v in a.as_primitive::<Float32Type>() {
                    match v {
                        Some(v) => {
                            buf.clear();
                            write_java_float(&mut buf, v);
                            out.append_value(&buf);
                        }
                        None => out.append_null(),
                    }
                }
            }
            DataType::Boolean => {
                let b: &BooleanArray = a.as_boolean();
                for v in b {
                    match v {
                        Some(v) => out.append_value(if v { "true" } else { "false" }),
                        None => out.append_null(),
                    }
                }
            }
            t if is_string_type(t) => {
                return Ok(ColumnarValue::Array(cast_with_options(
                    a,
                    &DataType::Utf8,
                    &STRICT,
                )?));
            }
            _ => {
                return Ok(ColumnarValue::Array(cast_with_options(
                    a,
                    &DataType::Utf8,
                    &STRICT,
                )?));
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// True for the types [`ToVectorUdf`] converts.
pub fn convertible_to_vector(t: &DataType) -> bool {
    match t {
        DataType::Struct(fields) => fields.iter().any(|f| f.name() == "values"),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            f.data_type().is_numeric()
        }
        t => is_string_type(t),
    }
}

/// Converts list, struct or text encodings of vectors into Spark's VectorUDT struct.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ToVectorUdf {
    signature: Signature,
}

impl Default for ToVectorUdf {
    fn default() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

/// Parses Spark's `Vector.toString` forms: `[1.0,2.0]` (dense) and `(5,[1,3],[7.0,9.0])`
/// (sparse). Whitespace is allowed around every token. A sparse size above the process's
/// [`max_vector_size`] is an error; see [`parse_vector_with`].
pub fn parse_vector(text: &str, out: &mut VectorBuilder) -> std::result::Result<(), String> {
    parse_vector_with(text, out, max_vector_size())
}

/// [`parse_vector`] with an explicit bound on the declared size of a sparse vector.
///
/// The size and the indices are read as integers without wrapping: a size above `max_size`
/// (or above `i32::MAX`, Spark's bound, whatever `max_size` says), a negative size or index,
/// or an index not below the size is an error naming the value. Nothing is allocated in
/// proportion to the declared size: the row is stored sparse, as given.
pub fn parse_vector_with(
    text: &str,
    out: &mut VectorBuilder,
    max_size: usize,
) -> std::result::Result<(), String> {
    fn numbers<T: std::str::FromStr>(s: &str) -> std::result::Result<Vec<T>, String> {
        let s = s.trim();
        let inner = s
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .ok_or_else(|| format!("expected a bracketed list, found '{}'", Shown(s)))?;
        if inner.trim().is_empty() {
            return Ok(Vec::new());
        }
        inner
            .split(',')
            .map(|x| {
                x.trim()
                    .parse::<T>()
                    .map_err(|_| format!("'{}' is not a number", Shown(x.trim())))
            })
            .collect()
    }
    let max_size = max_size.min(SPARK_MAX_VECTOR_SIZE);
    let t = text.trim();
    if t.starts_with('[') {
        let values: Vec<f64> = numbers(t)?;
        out.push_dense(&values);
        return Ok(());
    }
    let inner = t
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| "expected '[...]' or '(size,[indices],[values])'".to_string())?;
    let (size, rest) = inner
        .split_once(',')
        .ok_or_else(|| "expected '(size,[indices],[values])'".to_string())?;
    let size = match parse_count(size.trim()) {
        Count::Value(n) if n <= max_size as u64 => n as usize,
        Count::Value(_) | Count::Huge => {
            return Err(format!(
                "vector size {} is larger than the largest vector size {max_size} (set with \
                 --max-vector-size, at most {SPARK_MAX_VECTOR_SIZE})",
                Shown(size.trim())
            ));
        }
        Count::Negative => {
            return Err(format!("vector size {} is negative", Shown(size.trim())));
        }
        Count::NotInteger => {
            return Err(format!("'{}' is not a vector size", Shown(size.trim())));
        }
    };
    let close = rest
        .find(']')
        .ok_or_else(|| "unterminated index list".to_string())?;
    let (idx, vals) = rest.split_at(close + 1);
    let vals = vals
        .trim_start()
        .strip_prefix(',')
        .ok_or_else(|| "expected ',' between indices and values".to_string())?;
    let idx = idx.trim();
    let idx = idx
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or_else(|| format!("expected a bracketed list, found '{}'", Shown(idx)))?;
    let mut indices: Vec<i32> = Vec::new();
    if !idx.trim().is_empty() {
        let mut prev: Option<usize> = None;
        for x in idx.split(',') {
            let x = x.trim();
            let i = match parse_count(x) {
                // below `size`, which is at most i32::MAX, so it fits an i32
                Count::Value(i) if i < size as u64 => i as usize,
                Count::Value(_) | Count::Huge => {
                    return Err(format!(
                        "index {} is out of range for size {size}",
                        Shown(x)
                    ));
                }
                Count::Negative => return Err(format!("index {} is negative", Shown(x))),
                Count::NotInteger => return Err(format!("'{}' is not an index", Shown(x))),
            };
            if prev.is_some_and(|p| i <= p) {
                return Err(format!(
                    "indices must be strictly increasing: {i} after {}",
                    prev.unwrap_or_default()
                ));
            }
            prev = Some(i);
            indices.push(i as i32);
        }
    }
    let values: Vec<f64> = numbers(vals)?;
    if indices.len() != values.len() {
        return Err(format!(
            "{} indices but {} values",
            indices.len(),
            values.len()
        ));
    }
    out.push_sparse(size, &indices, &values);
    Ok(())
}

/// A size or index as text: a non-negative integer, one too large for `u64`, a negative
/// integer, or not an integer at all.
enum Count {
    Value(u64),
    Huge,
    Negative,
    NotInteger,
}

fn parse_count(s: &str) -> Count {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Count::NotInteger;
    }
    if negative {
        return if digits.bytes().all(|b| b == b'0') {
            Count::Value(0)
        } else {
            Count::Negative
        };
    }
    match digits.parse::<u64>() {
        Ok(n) => Count::Value(n),
        Err(_) => Count::Huge,
    }
}

fn struct_to_vector(s: &StructArray) -> Result<ArrayRef> {
    let child = |name: &str| s.column_by_name(name);
    let cast_child = |name: &str, t: &DataType| -> Result<Option<ArrayRef>> {
        match child(name) {
            Some(c) => Ok(Some(cast_with_options(c, t, &STRICT)?)),
            None => Ok(None),
        }
    };
    let canonical = vector_fields();
    let values = cast_child("values", canonical[3].data_type())?.ok_or_else(|| {
        datafusion::common::DataFusionError::Execution("vector struct without 'values'".into())
    })?;
    let indices = cast_child("indices", canonical[2].data_type())?;
    let size = cast_child("size", &DataType::Int32)?;
    let types = cast_child("type", &DataType::Int8)?;
    let n = s.len();
    let indices =
        indices.unwrap_or_else(|| arrow::array::new_null_array(canonical[2].data_type(), n));
    let size = size.unwrap_or_else(|| Arc::new(Int32Array::new_null(n)));
    // without a type tag, a row with a size is sparse, otherwise dense
    let types: ArrayRef = match types {
        Some(t) if t.null_count() == 0 => t,
        _ => Arc::new(Int8Array::from_iter_values(
            (0..n).map(|i| if size.is_valid(i) { 0 } else { 1 }),
        )),
    };
    let out = StructArray::try_new(
        canonical,
        vec![types, size, indices, values],
        s.nulls().cloned(),
    )?;
    // validate every row so malformed input fails here, with a clear message
    let va = VectorArray::try_new(&out)?;
    for i in 0..va.len() {
        va.value(i)?;
    }
    Ok(Arc::new(out))
}

impl ScalarUDFImpl for ToVectorUdf {
    fn name(&self) -> &str {
        "ember_to_vector"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(vector_data_type())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let t = args.arg_fields[0].data_type();
        if !convertible_to_vector(t) {
            return plan_err!("ember_to_vector: cannot read a vector from {t}");
        }
        Ok(Arc::new(Field::new(self.name(), vector_data_type(), true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let a = &input[0];
        if is_vector_type(a.data_type()) && a.data_type() == &vector_data_type() {
            return Ok(ColumnarValue::Array(Arc::clone(a)));
        }
        let out: ArrayRef = match a.data_type() {
            DataType::Struct(_) => struct_to_vector(a.as_struct())?,
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
                let list = cast_with_options(
                    a,
                    &DataType::LargeList(Arc::new(Field::new("item", DataType::Float64, true))),
                    &STRICT,
                )?;
                let list = list.as_list::<i64>();
                let mut b = VectorBuilder::with_capacity(list.len(), 8);
                for (row, v) in list.iter().enumerate() {
                    match v {
                        None => b.push_null(),
                        Some(v) => {
                            if v.null_count() > 0 {
                                return exec_err!("row {row}: a vector element is null");
                            }
                            b.push_dense(v.as_primitive::<Float64Type>().values());
                        }
                    }
                }
                b.finish_array()
            }
            t if is_string_type(t) => {
                let mut b = VectorBuilder::with_capacity(a.len(), 8);
                for_each_str(self.name(), a, |row, v| {
                    match v {
                        None => b.push_null(),
                        Some(s) if s.trim().is_empty() => b.push_null(),
                        Some(s) => parse_vector(s, &mut b).map_err(|e| {
                            datafusion::common::DataFusionError::Execution(format!(
                                "row {row}: '{}' is not a vector: {e}",
                                Shown(s)
                            ))
                        })?,
                    }
                    Ok(())
                })?;
                b.finish_array()
            }
            t => return exec_err!("ember_to_vector: cannot read a vector from {t}"),
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// Appends Spark's `Vector.toString` of `v`.
pub fn write_vector(out: &mut String, v: &VectorRef<'_>) {
    let list_f64 = |out: &mut String, xs: &[f64]| {
        out.push('[');
        for (i, x) in xs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_java_double(out, *x);
        }
        out.push(']');
    };
    match v {
        VectorRef::Dense(values) => list_f64(out, values),
        VectorRef::Sparse {
            size,
            indices,
            values,
        } => {
            use std::fmt::Write;
            write!(out, "({size},[").expect("write to String");
            for (i, x) in indices.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write!(out, "{x}").expect("write to String");
            }
            out.push_str("],");
            list_f64(out, values);
            out.push(')');
        }
    }
}

/// Renders vectors as Spark's `Vector.toString`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct VectorToStringUdf {
    signature: Signature,
}

impl Default for VectorToStringUdf {
    fn default() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for VectorToStringUdf {
    fn name(&self) -> &str {
        "ember_vector_to_string"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let t = args.arg_fields[0].data_type();
        if !is_vector_type(t) {
            return plan_err!("ember_vector_to_string: expects a vector, got {t}");
        }
        Ok(Arc::new(Field::new(self.name(), DataType::Utf8, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let va = VectorArray::try_new(input[0].as_ref())?;
        let mut out = StringBuilder::with_capacity(va.len(), va.len() * 16);
        let mut buf = String::new();
        for i in 0..va.len() {
            match va.value(i)? {
                None => out.append_null(),
                Some(v) => {
                    buf.clear();
                    write_vector(&mut buf, &v);
                    out.append_value(&buf);
                }
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::invoke;
    use arrow::array::{Float64Array, Int64Array, ListArray, StringArray};
    use arrow::datatypes::{Float64Type as F64, Int64Type};

    #[test]
    fn cast_numbers_like_spark() {
        let out = invoke(
            &CastToStringUdf::default(),
            vec![Arc::new(Float64Array::from(vec![
                Some(1.0),
                Some(1e7),
                Some(1.5e-4),
                None,
            ]))],
        )
        .unwrap();
        let s = out.as_string::<i32>();
        assert_eq!(
            (s.value(0), s.value(1), s.value(2)),
            ("1.0", "1.0E7", "1.5E-4")
        );
        assert!(s.is_null(3));
        let out = invoke(
            &CastToStringUdf::default(),
            vec![Arc::new(Int64Array::from(vec![-7, 1 << 40]))],
        )
        .unwrap();
        assert_eq!(out.as_string::<i32>().value(1), "1099511627776");
    }

    #[test]
    fn vectors_from_text_lists_and_structs() {
        let text = StringArray::from(vec![
            Some("[1.0, 2.5]"),
            Some("(4,[1,3],[7.0,NaN])"),
            None,
            Some(""),
        ]);
        let out = invoke(&ToVectorUdf::default(), vec![Arc::new(text)]).unwrap();
        let v = VectorArray::try_new(&out).unwrap();
        assert_eq!(v.value(0).unwrap(), Some(VectorRef::Dense(&[1.0, 2.5])));
        assert_eq!(v.value(1).unwrap().unwrap().size(), 4);
        assert!(v.is_null(2) && v.is_null(3));
        let bad = invoke(
            &ToVectorUdf::default(),
            vec![Arc::new(StringArray::from(vec!["(2,[5],[1.0])"]))],
        );
        assert!(bad.unwrap_err().to_string().contains("out of range"));

        let list =
            ListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![Some(1), Some(2)])]);
        let out = invoke(&ToVectorUdf::default(), vec![Arc::new(list)]).unwrap();
        assert_eq!(
            VectorArray::try_new(&out).unwrap().value(0).unwrap(),
            Some(VectorRef::Dense(&[1.0, 2.0]))
        );

        // a JSON-inferred struct: {"type": Int64, "values": List<Float64>}
        let values = ListArray::from_iter_primitive::<F64, _, _>(vec![Some(vec![Some(3.0)])]);
        let s = StructArray::from(vec![
            (
                Arc::new(Field::new("type", DataType::Int64, true)),
                Arc::new(Int64Array::from(vec![1])) as ArrayRef,
            ),
            (
                Arc::new(Field::new("values", values.data_type().clone(), true)),
                Arc::new(values) as ArrayRef,
            ),
        ]);
        let out = invoke(&ToVectorUdf::default(), vec![Arc::new(s)]).unwrap();
        assert_eq!(
            VectorArray::try_new(&out).unwrap().value(0).unwrap(),
            Some(VectorRef::Dense(&[3.0]))
        );
    }

    fn parse(text: &str, max: usize) -> std::result::Result<(usize, Vec<i32>), String> {
        let mut b = VectorBuilder::default();
        parse_vector_with(text, &mut b, max)?;
        let arr = b.finish_array();
        let v = VectorArray::try_new(&arr).unwrap();
        match v.value(0).unwrap().unwrap() {
            VectorRef::Sparse { size, indices, .. } => Ok((size, indices.to_vec())),
            VectorRef::Dense(d) => Ok((d.len(), Vec::new())),
        }
    }

    #[test]
    fn vector_sizes_parse_without_wrapping() {
        let max = i32::MAX as usize;
        // at the bounds: i32::MAX is Spark's largest size, its last index i32::MAX - 1
        assert_eq!(
            parse("(2147483647,[2147483646],[1.0])", max),
            Ok((2147483647, vec![2147483646]))
        );
        assert_eq!(
            parse("( 3 , [ 0 , 2 ] , [1.0, 2.0] )", 3),
            Ok((3, vec![0, 2]))
        );
        assert_eq!(parse("(0,[],[])", 3), Ok((0, vec![])));
        // one over i32::MAX, whatever the configured bound says
        let e = parse("(2147483648,[0],[1.0])", usize::MAX).unwrap_err();
        assert!(e.contains("2147483648") && e.contains("2147483647"), "{e}");
        // 2^32 + 2 used to wrap to size 2
        let e = parse("(4294967298,[0],[1.0])", max).unwrap_err();
        assert!(e.contains("vector size 4294967298 is larger"), "{e}");
        // beyond u64
        let e = parse("(99999999999999999999999,[0],[1.0])", max).unwrap_err();
        assert!(e.contains("is larger"), "{e}");
        // over the configured bound, which the message names with its flag
        let e = parse("(1001,[0],[1.0])", 1000).unwrap_err();
        assert!(
            e.contains("1001") && e.contains("1000") && e.contains("--max-vector-size"),
            "{e}"
        );
        assert_eq!(parse("(1000,[999],[1.0])", 1000), Ok((1000, vec![999])));
        // negative sizes and indices
        assert!(
            parse("(-5,[0],[1.0])", max)
                .unwrap_err()
                .contains("negative")
        );
        assert!(
            parse("(5,[-1],[1.0])", max)
                .unwrap_err()
                .contains("negative")
        );
        // indices out of range: at the size, past i32, past u64
        for idx in ["5", "2147483648", "4294967296", "99999999999999999999999"] {
            let e = parse(&format!("(5,[{idx}],[1.0])"), max).unwrap_err();
            assert!(e.contains("out of range for size 5"), "{idx}: {e}");
        }
        let e = parse("(2147483647,[2147483647],[1.0])", max).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        // not integers, out of order, mismatched lengths
        assert!(
            parse("(5.0,[1],[1.0])", max)
                .unwrap_err()
                .contains("not a vector size")
        );
        assert!(
            parse("(5,[1.5],[1.0])", max)
                .unwrap_err()
                .contains("not an index")
        );
        assert!(
            parse("(5,[2,1],[1.0,2.0])", max)
                .unwrap_err()
                .contains("increasing")
        );
        assert!(
            parse("(5,[1],[1.0,2.0])", max)
                .unwrap_err()
                .contains("1 indices but 2")
        );
        // a long bad token is quoted short
        let long = format!("({},[0],[1.0])", "9".repeat(100_000));
        assert!(parse(&long, max).unwrap_err().len() < 400);
    }

    #[test]
    fn a_huge_declared_size_allocates_nothing_for_it() {
        // stored sparse as given: the value buffer holds the one stored value
        let mut b = VectorBuilder::default();
        parse_vector_with("(2147483647,[7],[1.5])", &mut b, i32::MAX as usize).unwrap();
        let arr = b.finish();
        assert_eq!(arr.column(3).as_list::<i32>().values().len(), 1);
    }

    #[test]
    fn vector_text_round_trip() {
        let mut b = VectorBuilder::default();
        b.push_dense(&[1.0, 1e7]);
        b.push_sparse(5, &[1, 3], &[7.0, -0.5]);
        let out = invoke(&VectorToStringUdf::default(), vec![b.finish_array()]).unwrap();
        let s = out.as_string::<i32>();
        assert_eq!(s.value(0), "[1.0,1.0E7]");
        assert_eq!(s.value(1), "(5,[1,3],[7.0,-0.5])");
        let back = invoke(&ToVectorUdf::default(), vec![Arc::clone(&out)]).unwrap();
        let again = invoke(&VectorToStringUdf::default(), vec![back]).unwrap();
        assert_eq!(again.as_string::<i32>().value(1), "(5,[1,3],[7.0,-0.5])");
    }
}
