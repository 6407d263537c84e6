//! Spark ML vectors in Arrow: the VectorUDT struct layout, a zero-copy row view and a builder.
//!
//! Spark writes an `org.apache.spark.ml.linalg.Vector` as
//! `struct<type: int8, size: int32, indices: list<int32>, values: list<double>>`:
//! `type` 1 is dense (`size` and `indices` null, `values` holds every element) and 0 is sparse
//! (`size` elements, the non-zeros at `indices`). ember keeps exactly this layout in memory, so
//! vectors read from Spark's Parquet need no conversion, written ones read back in Spark as
//! vectors, and a dense/sparse choice made by a stage (for example VectorAssembler's
//! `compressed`) survives to the output just as Spark makes it.
//!
//! The `values` child is one contiguous `f64` buffer for the whole column: row `i` owns
//! `values[offsets[i]..offsets[i + 1]]`, so a dense row is a plain slice and kernels run over
//! contiguous memory without copying.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBufferBuilder, Float64Array, Int8Array, Int32Array, ListArray,
    StructArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type, Int8Type, Int32Type};
use arrow::error::ArrowError;

/// The default largest declared vector size ember reads: 2^24 = 16,777,216 elements (64 times
/// the 2^18 default of HashingTF and CountVectorizer; Spark's own bound is `i32::MAX`).
///
/// A size in Spark's text form (`(size,[indices],[values])`) costs nothing until something
/// densifies the vector, so the bound is there to turn a nonsense size into a clear error
/// before any stage arithmetic sees it. Set it with [`set_max_vector_size`]
/// (`--max-vector-size` on `ember serve` and `ember score`).
pub const DEFAULT_MAX_VECTOR_SIZE: usize = 1 << 24;

static MAX_VECTOR_SIZE: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(DEFAULT_MAX_VECTOR_SIZE);

/// The largest vector size read from text and produced by size-growing stages (assembled
/// vectors excepted: those are bounded by `i32::MAX` only) in this process; see
/// [`DEFAULT_MAX_VECTOR_SIZE`].
pub fn max_vector_size() -> usize {
    MAX_VECTOR_SIZE.load(std::sync::atomic::Ordering::Relaxed)
}

/// Sets the process-wide [`max_vector_size`] (clamped to `1..=i32::MAX`, Spark's bound). The
/// command line sets it once at start-up, from `--max-vector-size`.
pub fn set_max_vector_size(n: usize) {
    let n = n.clamp(1, i32::MAX as usize);
    MAX_VECTOR_SIZE.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// The largest size any vector may have: Spark's sizes and indices are `Int`.
pub const SPARK_MAX_VECTOR_SIZE: usize = i32::MAX as usize;

/// `type` value of a sparse vector row.
pub const SPARSE: i8 = 0;
/// `type` value of a dense vector row.
pub const DENSE: i8 = 1;

fn element_field(data_type: DataType) -> FieldRef {
    Arc::new(Field::new("element", data_type, false))
}

/// The list item fields and struct fields, built once: every vector column ember makes shares
/// these `Arc`s, so the type comparisons Arrow makes when a batch or struct is assembled
/// succeed on pointer equality instead of walking the nested fields.
struct VectorLayout {
    index_item: FieldRef,
    value_item: FieldRef,
    fields: Fields,
}

fn layout() -> &'static VectorLayout {
    static LAYOUT: std::sync::OnceLock<VectorLayout> = std::sync::OnceLock::new();
    LAYOUT.get_or_init(|| {
        let index_item = element_field(DataType::Int32);
        let value_item = element_field(DataType::Float64);
        let fields = Fields::from(vec![
            Field::new("type", DataType::Int8, false),
            Field::new("size", DataType::Int32, true),
            Field::new("indices", DataType::List(Arc::clone(&index_item)), true),
            Field::new("values", DataType::List(Arc::clone(&value_item)), true),
        ]);
        VectorLayout {
            index_item,
            value_item,
            fields,
        }
    })
}

/// The four fields of Spark's VectorUDT struct, with the child names and nullability Spark's
/// Parquet files carry (`element` list items, non-null `type`).
pub fn vector_fields() -> Fields {
    layout().fields.clone()
}

/// The Arrow type of a Spark ML vector column.
pub fn vector_data_type() -> DataType {
    DataType::Struct(vector_fields())
}

/// The Arrow type of Spark's `array<vector>` (LSH's hash vectors): a list of vectors, item
/// `element`, nullable (Spark's Parquet LIST naming).
pub fn vector_list_type() -> DataType {
    DataType::List(Arc::new(Field::new("element", vector_data_type(), true)))
}

/// True when `data_type` is a struct with Spark's VectorUDT fields (names and child types; the
/// list item names and nullability may differ, as they do between writers).
pub fn is_vector_type(data_type: &DataType) -> bool {
    let DataType::Struct(fields) = data_type else {
        return false;
    };
    if fields.len() != 4 {
        return false;
    }
    let list_of = |f: &Field, t: &DataType| match f.data_type() {
        DataType::List(item) => item.data_type() == t,
        _ => false,
    };
    fields[0].name() == "type"
        && fields[0].data_type() == &DataType::Int8
        && fields[1].name() == "size"
        && fields[1].data_type() == &DataType::Int32
        && fields[2].name() == "indices"
        && list_of(&fields[2], &DataType::Int32)
        && fields[3].name() == "values"
        && list_of(&fields[3], &DataType::Float64)
}

/// One vector row, borrowed from the column's buffers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VectorRef<'a> {
    /// Every element, in order.
    Dense(&'a [f64]),
    /// `size` elements; the ones not listed in `indices` are zero.
    Sparse {
        /// Number of elements.
        size: usize,
        /// Strictly increasing positions of the stored values.
        indices: &'a [i32],
        /// The stored values (may include explicit zeros).
        values: &'a [f64],
    },
}

impl<'a> VectorRef<'a> {
    /// Number of elements (Spark's `Vector.size`).
    pub fn size(&self) -> usize {
        match self {
            VectorRef::Dense(v) => v.len(),
            VectorRef::Sparse { size, .. } => *size,
        }
    }

    /// Element `i` (zero when a sparse vector does not store it). `i` must be `< size()`.
    pub fn get(&self, i: usize) -> f64 {
        match self {
            VectorRef::Dense(v) => v[i],
            VectorRef::Sparse {
                indices, values, ..
            } => match indices.binary_search(&(i as i32)) {
                Ok(k) => values[k],
                Err(_) => 0.0,
            },
        }
    }

    /// Calls `f(index, value)` for each stored element in index order, as Spark's
    /// `foreachActive` does (dense: every element; sparse: the stored ones, zeros included).
    #[inline]
    pub fn for_each_active(&self, mut f: impl FnMut(usize, f64)) {
        match self {
            VectorRef::Dense(v) => v.iter().enumerate().for_each(|(i, x)| f(i, *x)),
            VectorRef::Sparse {
                indices, values, ..
            } => indices
                .iter()
                .zip(values.iter())
                .for_each(|(i, x)| f(*i as usize, *x)),
        }
    }

    /// Dot product with a dense vector of the same size, summing the stored elements in index
    /// order (Spark's `BLAS.dot` for sparse, sequential for dense). Sizes must match.
    #[inline]
    pub fn dot(&self, dense: &[f64]) -> f64 {
        match self {
            VectorRef::Dense(v) => v.iter().zip(dense).map(|(a, b)| a * b).sum(),
            VectorRef::Sparse {
                indices, values, ..
            } => indices
                .iter()
                .zip(values.iter())
                .map(|(i, x)| x * dense[*i as usize])
                .sum(),
        }
    }

    /// Writes the vector's elements into `out` (length `size()`), zeros included.
    pub fn write_dense(&self, out: &mut [f64]) {
        match self {
            VectorRef::Dense(v) => out.copy_from_slice(v),
            VectorRef::Sparse {
                indices, values, ..
            } => {
                out.fill(0.0);
                for (i, x) in indices.iter().zip(values.iter()) {
                    out[*i as usize] = *x;
                }
            }
        }
    }

    /// The elements as a new dense `Vec` of `size()` elements: only for vectors whose size the
    /// caller has bounded (checked against a model's, or small), never for a size as declared
    /// by input text.
    pub fn to_dense(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.size()];
        self.write_dense(&mut out);
        out
    }
}

/// `a + b` as a vector size, or `None` when it overflows or exceeds [`SPARK_MAX_VECTOR_SIZE`]
/// (Spark's sizes are `Int`): for stages whose output size is a sum of input sizes.
pub fn checked_size(a: usize, b: usize) -> Option<usize> {
    a.checked_add(b).filter(|n| *n <= SPARK_MAX_VECTOR_SIZE)
}

/// A read-only view of a vector column (Spark's VectorUDT struct layout).
///
/// Construction checks the column's type once; [`VectorArray::value`] validates each row it
/// returns (type tag, sizes, index bounds and order), so malformed data from a file becomes an
/// error rather than a panic.
#[derive(Debug, Clone)]
pub struct VectorArray<'a> {
    array: &'a StructArray,
    types: &'a [i8],
    sizes: &'a Int32Array,
    indices: &'a ListArray,
    index_values: &'a [i32],
    values: &'a ListArray,
    value_values: &'a [f64],
}

impl<'a> VectorArray<'a> {
    /// Wraps `array`, which must be a vector struct (see [`is_vector_type`]).
    pub fn try_new(array: &'a dyn Array) -> Result<Self, ArrowError> {
        if !is_vector_type(array.data_type()) {
            return Err(ArrowError::InvalidArgumentError(format!(
                "expected a Spark ML vector (struct<type:int8,size:int32,indices:array<int>,\
                 values:array<double>>), got {}",
                array.data_type()
            )));
        }
        let array = array.as_struct();
        let indices = array.column(2).as_list::<i32>();
        let values = array.column(3).as_list::<i32>();
        Ok(Self {
            array,
            types: array.column(0).as_primitive::<Int8Type>().values(),
            sizes: array.column(1).as_primitive::<Int32Type>(),
            indices,
            index_values: indices.values().as_primitive::<Int32Type>().values(),
            values,
            value_values: values.values().as_primitive::<Float64Type>().values(),
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.array.len()
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.array.is_empty()
    }

    /// True when row `i` is null.
    pub fn is_null(&self, i: usize) -> bool {
        self.array.is_null(i)
    }

    /// The struct-level null buffer.
    pub fn nulls(&self) -> Option<&NullBuffer> {
        self.array.nulls()
    }

    fn list_slice<'b, T>(list: &ListArray, flat: &'b [T], i: usize) -> Option<&'b [T]> {
        if list.is_null(i) {
            return None;
        }
        let offsets = list.value_offsets();
        let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
        flat.get(start..end)
    }

    /// Row `i`, or `Ok(None)` when it is null. Errors describe malformed rows.
    pub fn value(&self, i: usize) -> Result<Option<VectorRef<'a>>, ArrowError> {
        if self.array.is_null(i) {
            return Ok(None);
        }
        let bad =
            |what: &str| ArrowError::InvalidArgumentError(format!("malformed vector: {what}"));
        let values = Self::list_slice(self.values, self.value_values, i)
            .ok_or_else(|| bad("values are null"))?;
        match self.types[i] {
            DENSE => Ok(Some(VectorRef::Dense(values))),
            SPARSE => {
                if self.sizes.is_null(i) {
                    return Err(bad("sparse vector without a size"));
                }
                let size = self.sizes.value(i);
                if size < 0 {
                    return Err(bad("negative size"));
                }
                let indices = Self::list_slice(self.indices, self.index_values, i)
                    .ok_or_else(|| bad("sparse vector without indices"))?;
                if indices.len() != values.len() {
                    return Err(bad("indices and values differ in length"));
                }
                let mut prev = -1i64;
                for &ix in indices {
                    if i64::from(ix) <= prev || ix >= size {
                        return Err(bad(&format!(
                            "index {ix} out of order or out of range for size {size}"
                        )));
                    }
                    prev = i64::from(ix);
                }
                Ok(Some(VectorRef::Sparse {
                    size: size as usize,
                    indices,
                    values,
                }))
            }
            other => Err(bad(&format!("unknown type tag {other}"))),
        }
    }

    /// When every non-null row is dense with width `n`, the column's value buffer as one slice
    /// of `len * n` elements (null rows occupy no space, so this also requires no nulls).
    pub fn dense_block(&self, n: usize) -> Option<&'a [f64]> {
        if self.array.null_count() > 0 || self.types.iter().any(|t| *t != DENSE) {
            return None;
        }
        let offsets = self.values.value_offsets();
        let start = offsets[0] as usize;
        let uniform = offsets.windows(2).all(|w| (w[1] - w[0]) as usize == n);
        if !uniform || self.values.null_count() > 0 {
            return None;
        }
        self.value_values.get(start..start + n * self.len())
    }
}

/// Builds a vector column row by row.
///
/// Dense rows append straight into one flat `f64` buffer ([`VectorBuilder::dense_row`] hands
/// out the row's slot to fill in place); sparse rows append indices and values.
#[derive(Debug, Default)]
pub struct VectorBuilder {
    types: Vec<i8>,
    sizes: Vec<i32>,
    /// Rows stored sparse: where `size` and `indices` are set (one null buffer for both).
    sparse: Vec<bool>,
    index_offsets: Vec<i32>,
    indices: Vec<i32>,
    value_offsets: Vec<i32>,
    values: Vec<f64>,
    valid: Vec<bool>,
    nulls: usize,
}

impl VectorBuilder {
    /// A builder with room for `rows` rows of about `width` stored values each.
    pub fn with_capacity(rows: usize, width: usize) -> Self {
        let mut b = Self {
            types: Vec::with_capacity(rows),
            sizes: Vec::with_capacity(rows),
            sparse: Vec::with_capacity(rows),
            index_offsets: Vec::with_capacity(rows + 1),
            indices: Vec::new(),
            value_offsets: Vec::with_capacity(rows + 1),
            values: Vec::with_capacity(rows * width),
            valid: Vec::with_capacity(rows),
            nulls: 0,
        };
        b.index_offsets.push(0);
        b.value_offsets.push(0);
        b
    }

    fn offsets_ok(&self) -> bool {
        !self.index_offsets.is_empty()
    }

    fn ensure_started(&mut self) {
        if !self.offsets_ok() {
            self.index_offsets.push(0);
            self.value_offsets.push(0);
        }
    }

    fn close_row(&mut self) {
        self.index_offsets.push(self.indices.len() as i32);
        self.value_offsets.push(self.values.len() as i32);
    }

    /// Appends a dense row of `n` zeros and returns it for the caller to fill.
    #[inline]
    pub fn dense_row(&mut self, n: usize) -> &mut [f64] {
        self.ensure_started();
        self.types.push(DENSE);
        self.sizes.push(0);
        self.sparse.push(false);
        self.valid.push(true);
        let start = self.values.len();
        self.values.resize(start + n, 0.0);
        self.close_row();
        &mut self.values[start..]
    }

    /// Appends a dense row.
    pub fn push_dense(&mut self, values: &[f64]) {
        self.dense_row(values.len()).copy_from_slice(values);
    }

    /// Appends a sparse row. `indices` must be strictly increasing and below `size`, and `size`
    /// at most [`SPARK_MAX_VECTOR_SIZE`] (callers check sizes they compute, see
    /// [`checked_size`]; a larger one is stored as `i32::MAX` rather than wrapped).
    pub fn push_sparse(&mut self, size: usize, indices: &[i32], values: &[f64]) {
        self.ensure_started();
        self.types.push(SPARSE);
        self.sizes.push(i32::try_from(size).unwrap_or(i32::MAX));
        self.sparse.push(true);
        self.valid.push(true);
        self.indices.extend_from_slice(indices);
        self.values.extend_from_slice(values);
        self.close_row();
    }

    /// Appends a vector given by its stored elements, choosing the smaller representation as
    /// Spark's `Vector.compressed` does: sparse when `1.5 * (nnz + 1) < size`, where nnz counts
    /// the stored values that are not `0.0` (NaN counts), otherwise dense.
    pub fn push_compressed(&mut self, size: usize, indices: &[i32], values: &[f64]) {
        let nnz = values.iter().filter(|v| **v != 0.0).count();
        if 1.5 * (nnz as f64 + 1.0) < size as f64 {
            if nnz == values.len() {
                self.push_sparse(size, indices, values);
            } else {
                let (ix, vs): (Vec<i32>, Vec<f64>) = indices
                    .iter()
                    .zip(values)
                    .filter(|(_, v)| **v != 0.0)
                    .map(|(i, v)| (*i, *v))
                    .unzip();
                self.push_sparse(size, &ix, &vs);
            }
        } else {
            let row = self.dense_row(size);
            for (i, v) in indices.iter().zip(values) {
                row[*i as usize] = *v;
            }
        }
    }

    /// Appends a row given as a [`VectorRef`], keeping its representation.
    pub fn push(&mut self, v: VectorRef<'_>) {
        match v {
            VectorRef::Dense(values) => self.push_dense(values),
            VectorRef::Sparse {
                size,
                indices,
                values,
            } => self.push_sparse(size, indices, values),
        }
    }

    /// Appends a null row.
    pub fn push_null(&mut self) {
        self.ensure_started();
        self.types.push(SPARSE);
        self.sizes.push(0);
        self.sparse.push(false);
        self.valid.push(false);
        self.nulls += 1;
        self.close_row();
    }

    /// Number of rows appended so far.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// True when no row was appended.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    fn null_buffer(valid: &[bool]) -> Option<NullBuffer> {
        if valid.iter().all(|v| *v) {
            return None;
        }
        let mut b = BooleanBufferBuilder::new(valid.len());
        b.append_slice(valid);
        Some(NullBuffer::new(b.finish()))
    }

    /// Finishes the column as a `StructArray` of [`vector_data_type`].
    pub fn finish(mut self) -> StructArray {
        self.ensure_started();
        let layout = layout();
        // a row's values are null exactly when the row is
        let nulls = if self.nulls > 0 {
            Self::null_buffer(&self.valid)
        } else {
            None
        };
        // size and indices are set exactly on sparse rows
        let sparse = Self::null_buffer(&self.sparse);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int8Array::from(self.types)),
            Arc::new(Int32Array::new(
                ScalarBuffer::from(self.sizes),
                sparse.clone(),
            )),
            Arc::new(ListArray::new(
                Arc::clone(&layout.index_item),
                OffsetBuffer::new(ScalarBuffer::from(self.index_offsets)),
                Arc::new(Int32Array::from(self.indices)),
                sparse,
            )),
            Arc::new(ListArray::new(
                Arc::clone(&layout.value_item),
                OffsetBuffer::new(ScalarBuffer::from(self.value_offsets)),
                Arc::new(Float64Array::from(self.values)),
                nulls.clone(),
            )),
        ];
        StructArray::new(layout.fields.clone(), columns, nulls)
    }

    /// Finishes the column as an `ArrayRef`.
    pub fn finish_array(self) -> ArrayRef {
        Arc::new(self.finish())
    }
}

/// Builds a vector column from dense rows (convenience for tests and small inputs).
pub fn dense_vectors<'a>(rows: impl IntoIterator<Item = Option<&'a [f64]>>) -> StructArray {
    let mut b = VectorBuilder::with_capacity(0, 0);
    for r in rows {
        match r {
            Some(v) => b.push_dense(v),
            None => b.push_null(),
        }
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_dense_sparse_null() {
        let mut b = VectorBuilder::with_capacity(3, 3);
        b.push_dense(&[1.0, 2.0, 3.0]);
        b.push_null();
        b.push_sparse(5, &[1, 3], &[7.0, 9.0]);
        let arr = b.finish();
        assert_eq!(arr.data_type(), &vector_data_type());
        let v = VectorArray::try_new(&arr).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(
            v.value(0).unwrap(),
            Some(VectorRef::Dense(&[1.0, 2.0, 3.0]))
        );
        assert_eq!(v.value(1).unwrap(), None);
        let s = v.value(2).unwrap().unwrap();
        assert_eq!(s.size(), 5);
        assert_eq!(s.to_dense(), vec![0.0, 7.0, 0.0, 9.0, 0.0]);
        assert_eq!(s.get(3), 9.0);
        assert_eq!(s.get(2), 0.0);
        assert_eq!(s.dot(&[1.0, 2.0, 3.0, 4.0, 5.0]), 14.0 + 36.0);
        // dense rows carry null size/indices like Spark's writer
        assert!(arr.column(1).is_null(0));
        assert!(arr.column(2).is_null(0));
        assert!(arr.column(1).is_valid(2));
    }

    #[test]
    fn compressed_follows_spark_rule() {
        // size 4, nnz 1: 1.5 * 2 = 3 < 4 -> sparse
        let mut b = VectorBuilder::default();
        b.push_compressed(4, &[2], &[5.0]);
        // size 3, nnz 1: 3 < 3 is false -> dense
        b.push_compressed(3, &[2], &[5.0]);
        // explicit zeros are dropped from a sparse result; NaN counts as non-zero
        b.push_compressed(10, &[1, 2, 4], &[0.0, f64::NAN, 3.0]);
        let arr = b.finish();
        let v = VectorArray::try_new(&arr).unwrap();
        assert!(matches!(
            v.value(0).unwrap(),
            Some(VectorRef::Sparse { size: 4, .. })
        ));
        assert_eq!(
            v.value(1).unwrap(),
            Some(VectorRef::Dense(&[0.0, 0.0, 5.0]))
        );
        match v.value(2).unwrap().unwrap() {
            VectorRef::Sparse {
                indices, values, ..
            } => {
                assert_eq!(indices, &[2, 4]);
                assert!(values[0].is_nan());
                assert_eq!(values[1], 3.0);
            }
            other => panic!("expected sparse, got {other:?}"),
        }
    }

    #[test]
    fn malformed_rows_are_errors_not_panics() {
        let good = {
            let mut b = VectorBuilder::default();
            b.push_sparse(3, &[2, 1], &[1.0, 2.0]); // out of order
            b.push_sparse(2, &[5], &[1.0]); // out of range
            b.finish()
        };
        let v = VectorArray::try_new(&good).unwrap();
        assert!(v.value(0).is_err());
        assert!(v.value(1).is_err());
        let not_vector = Float64Array::from(vec![1.0]);
        assert!(VectorArray::try_new(&not_vector).is_err());
    }

    #[test]
    fn dense_block_only_for_uniform_dense_columns() {
        let arr = dense_vectors([Some(&[1.0, 2.0][..]), Some(&[3.0, 4.0][..])]);
        let v = VectorArray::try_new(&arr).unwrap();
        assert_eq!(v.dense_block(2), Some(&[1.0, 2.0, 3.0, 4.0][..]));
        assert_eq!(v.dense_block(3), None);
        let sliced = arr.slice(1, 1);
        let v = VectorArray::try_new(&sliced).unwrap();
        assert_eq!(v.dense_block(2), Some(&[3.0, 4.0][..]));
        let with_null = dense_vectors([Some(&[1.0, 2.0][..]), None]);
        assert_eq!(
            VectorArray::try_new(&with_null).unwrap().dense_block(2),
            None
        );
    }
}
