//! Reader for directories written by Spark's `PipelineModel.save()` (Spark 2.x–4.x).
//!
//! ```text
//! <model>/metadata/part-00000          {"class": "org.apache.spark.ml.PipelineModel", "uid", "paramMap": {"stageUids": [..]}, ..}
//! <model>/stages/<i>_<uid>/metadata/part-00000   one stage's class, uid, paramMap, defaultParamMap
//! <model>/stages/<i>_<uid>/data/*.parquet        its fitted values (absent for pure transformers)
//! ```
//! `<i>` is zero-padded to the width of the stage count. A stage that is itself a
//! `PipelineModel` nests the same layout. A directory holding a single saved model (not a
//! pipeline) loads as a one-stage pipeline.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, RecordBatchReader};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Float64Type, Int8Type, Int32Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::metadata::ParquetMetaData;
use serde_json::{Map, Value};

use ember_udfs::vector::VectorArray;

use ember_udfs::shown::{Shown, shown_message};

use crate::error::{EmberError, Result, io_err};
use crate::formats::local::{ModelDir, file_limit_message};
use crate::formats::mleap::files::BundleLimits;
use crate::formats::mleap::value::brief;
use crate::stage::Stage;

/// Class names of a saved pipeline: Spark's, and PySpark's when it writes a pipeline holding
/// nested pipelines itself (`"language": "Python"` in the metadata; same layout).
pub const PIPELINE_MODELS: &[&str] = &[
    "org.apache.spark.ml.PipelineModel",
    "pyspark.ml.pipeline.PipelineModel",
];

/// One saved stage directory: its metadata and where its data lives.
#[derive(Debug, Clone)]
pub struct SparkStageDir {
    /// The stage directory.
    pub path: PathBuf,
    /// Fully qualified Spark class.
    pub class: String,
    /// The stage uid.
    pub uid: String,
    /// Spark version that wrote it.
    pub spark_version: String,
    params: Map<String, Value>,
    defaults: Map<String, Value>,
    meta: Value,
    /// The model directory every file must resolve into.
    model: ModelDir,
    limits: BundleLimits,
}

/// Reads the single JSON document in `<dir>/metadata/part-*` (the first non-empty one), each
/// file checked to be a regular file inside the model directory and bounded by the model-file
/// limit. The document is parsed straight from the file (JSON Lines: the first value counts).
fn read_metadata(model: &ModelDir, dir: &Path, limits: BundleLimits) -> Result<Value> {
    let meta_dir = dir.join("metadata");
    model.dir(&meta_dir)?;
    let mut parts: Vec<PathBuf> = fs::read_dir(&meta_dir)
        .map_err(io_err(&meta_dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("part-"))
        })
        .collect();
    parts.sort();
    let limit = limits.max_file_bytes;
    for p in parts {
        let (mut reader, _) = model.open_limited(&p, limit)?;
        let first = serde_json::Deserializer::from_reader(&mut reader)
            .into_iter::<Value>()
            .next();
        match first {
            None => continue,
            Some(Ok(v)) => return Ok(v),
            Some(Err(_)) if reader.over() => {
                return Err(EmberError::format(&p, file_limit_message(limit)));
            }
            Some(Err(e)) => {
                return Err(EmberError::format(
                    &p,
                    format!("invalid metadata JSON: {}", shown_message(&e.to_string())),
                ));
            }
        }
    }
    Err(EmberError::format(
        &meta_dir,
        "no metadata/part-* file with content (is this a directory written by Spark's save()?)",
    ))
}

impl SparkStageDir {
    /// Reads the metadata of the stage saved in `path` (a model directory of its own), with the
    /// default limits.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_in(&ModelDir::new(path)?, path, BundleLimits::default())
    }

    /// Reads the metadata of the stage saved in `path`, inside the model directory `model`.
    fn open_in(model: &ModelDir, path: &Path, limits: BundleLimits) -> Result<Self> {
        model.dir(path)?;
        let mut meta = read_metadata(model, path, limits)?;
        let field = |meta: &Value, name: &str| -> Result<String> {
            meta.get(name)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    EmberError::format(path.join("metadata"), format!("metadata has no '{name}'"))
                })
        };
        // moved out, not cloned
        let mut map = |name: &str| match meta.get_mut(name).map(Value::take) {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let params = map("paramMap");
        let defaults = map("defaultParamMap");
        Ok(Self {
            path: path.to_path_buf(),
            class: field(&meta, "class")?,
            uid: field(&meta, "uid")?,
            spark_version: meta
                .get("sparkVersion")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string(),
            params,
            defaults,
            meta,
            model: model.clone(),
            limits,
        })
    }

    /// A top-level metadata field other than the params (models save extra values there, such
    /// as trees' `numFeatures` and `numClasses`).
    pub fn metadata(&self, name: &str) -> Option<&Value> {
        self.meta.get(name)
    }

    /// A param's JSON value: the explicitly set one, else Spark's default.
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.params.get(name).or_else(|| self.defaults.get(name))
    }

    /// True when the param was set explicitly (not just defaulted).
    pub fn is_set(&self, name: &str) -> bool {
        self.params.contains_key(name)
    }

    /// A param error for this stage.
    pub fn param_error(&self, param: &str, message: impl Into<String>) -> EmberError {
        EmberError::Param {
            uid: self.uid.clone(),
            class: self.class.clone(),
            param: param.to_string(),
            message: message.into(),
        }
    }

    /// A string param, if present.
    pub fn string(&self, name: &str) -> Result<Option<String>> {
        match self.param(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => {
                Err(self.param_error(name, format!("expected a string, found {}", brief(v))))
            }
        }
    }

    /// A required string param.
    pub fn required_string(&self, name: &str) -> Result<String> {
        self.string(name)?
            .ok_or_else(|| self.param_error(name, "missing"))
    }

    /// A boolean param, with a default when absent.
    pub fn bool_or(&self, name: &str, default: bool) -> Result<bool> {
        match self.param(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => {
                Err(self.param_error(name, format!("expected a boolean, found {}", brief(v))))
            }
        }
    }

    /// A double param (Spark writes NaN and infinities as strings), if present.
    pub fn f64(&self, name: &str) -> Result<Option<f64>> {
        match self.param(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => json_f64(v).map(Some).ok_or_else(|| {
                self.param_error(name, format!("expected a number, found {}", brief(v)))
            }),
        }
    }

    /// A string-array param, if present.
    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>> {
        match self.param(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| self.param_error(name, "expected an array of strings")),
            Some(v) => {
                Err(self.param_error(name, format!("expected an array, found {}", brief(v))))
            }
        }
    }

    /// A double-array param, if present.
    pub fn f64s(&self, name: &str) -> Result<Option<Vec<f64>>> {
        match self.param(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(json_f64)
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| self.param_error(name, "expected an array of numbers")),
            Some(v) => {
                Err(self.param_error(name, format!("expected an array, found {}", brief(v))))
            }
        }
    }

    /// An array-of-double-arrays param (Bucketizer's `splitsArray`), if present.
    pub fn f64_lists(&self, name: &str) -> Result<Option<Vec<Vec<f64>>>> {
        let bad = || self.param_error(name, "expected an array of arrays of numbers");
        match self.param(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(outer)) => outer
                .iter()
                .map(|inner| {
                    inner
                        .as_array()
                        .and_then(|a| a.iter().map(json_f64).collect::<Option<Vec<_>>>())
                        .ok_or_else(bad)
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(_) => Err(bad()),
        }
    }

    /// Single-column (`inputCol`/`outputCol`) or multi-column (`inputCols`/`outputCols`)
    /// columns of a stage that supports both, as Spark resolves them.
    pub fn in_out_columns(&self) -> Result<(Vec<String>, Vec<String>)> {
        let multi_in = self.is_set("inputCols");
        let single_in = self.is_set("inputCol");
        if multi_in && single_in {
            return Err(self.param_error("inputCols", "both inputCol and inputCols are set"));
        }
        if multi_in {
            let ins = self.strings("inputCols")?.unwrap_or_default();
            let outs = self.strings("outputCols")?.unwrap_or_default();
            if ins.len() != outs.len() {
                return Err(self.param_error(
                    "outputCols",
                    format!("{} inputCols but {} outputCols", ins.len(), outs.len()),
                ));
            }
            Ok((ins, outs))
        } else {
            Ok((
                vec![self.required_string("inputCol")?],
                vec![self.required_string("outputCol")?],
            ))
        }
    }

    /// The fitted data: every Parquet file under `data/`, as one batch.
    pub fn data(&self) -> Result<RecordBatch> {
        self.data_in("data")
    }

    /// Every Parquet file under the stage's subdirectory `sub` (e.g. tree ensembles'
    /// `treesMetadata/`), as one batch.
    pub fn data_in(&self, sub: &str) -> Result<RecordBatch> {
        let dir = self.path.join(sub);
        self.model.dir(&dir)?;
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .map_err(io_err(&dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                n.ends_with(".parquet") && !n.starts_with('.') && !n.starts_with('_')
            })
            .collect();
        files.sort();
        let mut batches = Vec::new();
        let mut schema = None;
        for f in &files {
            // a FIFO or device named *.parquet is refused before it is opened, and a file over
            // the per-file limit before it is read
            let limit = self.limits.max_file_bytes;
            // read in place (the parquet crate reads the footer, then each chunk it needs)
            let len = self.model.file(f)?;
            if len > limit {
                return Err(EmberError::format(f, file_limit_message(limit)));
            }
            let file = fs::File::open(f).map_err(io_err(f))?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| EmberError::format(f, format!("unreadable Parquet: {e}")))?;
            check_parquet_layout(builder.metadata(), len, limit)
                .map_err(|m| EmberError::format(f, format!("unreadable Parquet: {m}")))?;
            let reader = builder
                .build()
                .map_err(|e| EmberError::format(f, format!("unreadable Parquet: {e}")))?;
            schema.get_or_insert_with(|| reader.schema());
            for b in reader {
                batches.push(b.map_err(|e| EmberError::format(f, e.to_string()))?);
            }
        }
        let schema = schema.ok_or_else(|| EmberError::format(&dir, "no Parquet data files"))?;
        let batch = concat_batches(&schema, &batches)?;
        if batch.num_rows() == 0 {
            return Err(EmberError::format(&dir, "the model data has no rows"));
        }
        Ok(batch)
    }
}

/// Checks a Parquet footer's column chunks before any is read: offsets and sizes non-negative,
/// each chunk inside the file, and no chunk declaring more than `limit` bytes decompressed.
/// The parquet crate asserts the first (a panic on a corrupt footer) and trusts the others.
fn check_parquet_layout(
    meta: &ParquetMetaData,
    file_len: u64,
    limit: u64,
) -> std::result::Result<(), String> {
    for (g, group) in meta.row_groups().iter().enumerate() {
        for c in group.columns() {
            let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset());
            let (len, raw) = (c.compressed_size(), c.uncompressed_size());
            let name = c.column_path().string();
            let name = Shown(&name);
            if start < 0 || len < 0 || raw < 0 {
                return Err(format!(
                    "row group {g}, column {name}: negative offset or size in the footer \
                     (start {start}, length {len}, uncompressed {raw})"
                ));
            }
            if (start as u64).saturating_add(len as u64) > file_len {
                return Err(format!(
                    "row group {g}, column {name}: bytes {start}..{} are past the end of the \
                     {file_len}-byte file",
                    start as u64 + len as u64
                ));
            }
            if raw as u64 > limit {
                return Err(format!(
                    "row group {g}, column {name}: declares {raw} bytes uncompressed, over the \
                     {limit}-byte per-file limit (--max-model-file-mb)"
                ));
            }
        }
    }
    Ok(())
}

fn json_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Inf" | "Infinity" => Some(f64::INFINITY),
            "-Inf" | "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// Typed access to the first row of a stage's fitted data.
pub struct DataRow<'a> {
    stage: &'a SparkStageDir,
    batch: &'a RecordBatch,
}

impl<'a> DataRow<'a> {
    /// Wraps the first row of `batch`.
    pub fn new(stage: &'a SparkStageDir, batch: &'a RecordBatch) -> Self {
        Self { stage, batch }
    }

    /// True when the data has a column `name`.
    pub fn has(&self, name: &str) -> bool {
        self.batch.schema().index_of(name).is_ok()
    }

    fn column(&self, name: &str) -> Result<&'a dyn Array> {
        let c = self
            .batch
            .column_by_name(name)
            .ok_or_else(|| self.stage.param_error(name, "missing from the model data"))?;
        if c.is_null(0) {
            return Err(self.stage.param_error(name, "null in the model data"));
        }
        Ok(c.as_ref())
    }

    fn wrong(&self, name: &str, t: &DataType) -> EmberError {
        self.stage
            .param_error(name, format!("unexpected type {t} in the model data"))
    }

    /// An integer field.
    pub fn int(&self, name: &str) -> Result<i64> {
        let c = self.column(name)?;
        match c.data_type() {
            DataType::Int32 => Ok(c.as_primitive::<Int32Type>().value(0).into()),
            DataType::Int64 => Ok(c.as_primitive::<arrow::datatypes::Int64Type>().value(0)),
            t => Err(self.wrong(name, t)),
        }
    }

    /// A double field.
    pub fn f64(&self, name: &str) -> Result<f64> {
        let c = self.column(name)?;
        match c.data_type() {
            DataType::Float64 => Ok(c.as_primitive::<Float64Type>().value(0)),
            t => Err(self.wrong(name, t)),
        }
    }

    /// A boolean field.
    pub fn bool(&self, name: &str) -> Result<bool> {
        let c = self.column(name)?;
        match c.data_type() {
            DataType::Boolean => Ok(c.as_boolean().value(0)),
            t => Err(self.wrong(name, t)),
        }
    }

    /// An `array<int>` field.
    pub fn ints(&self, name: &str) -> Result<Vec<i64>> {
        let c = self.column(name)?;
        let DataType::List(_) = c.data_type() else {
            return Err(self.wrong(name, c.data_type()));
        };
        let v = c.as_list::<i32>().value(0);
        match v.data_type() {
            DataType::Int32 => Ok(v
                .as_primitive::<Int32Type>()
                .values()
                .iter()
                .map(|x| i64::from(*x))
                .collect()),
            DataType::Int64 => Ok(v
                .as_primitive::<arrow::datatypes::Int64Type>()
                .values()
                .to_vec()),
            t => Err(self.wrong(name, t)),
        }
    }

    /// An `array<string>` field.
    pub fn strings(&self, name: &str) -> Result<Vec<String>> {
        let c = self.column(name)?;
        let DataType::List(_) = c.data_type() else {
            return Err(self.wrong(name, c.data_type()));
        };
        strings_of(self.stage, name, c.as_list::<i32>().value(0).as_ref())
    }

    /// An `array<array<string>>` field.
    pub fn string_lists(&self, name: &str) -> Result<Vec<Vec<String>>> {
        let c = self.column(name)?;
        let DataType::List(_) = c.data_type() else {
            return Err(self.wrong(name, c.data_type()));
        };
        let outer = c.as_list::<i32>().value(0);
        let DataType::List(_) = outer.data_type() else {
            return Err(self.wrong(name, outer.data_type()));
        };
        let outer = outer.as_list::<i32>();
        (0..outer.len())
            .map(|i| strings_of(self.stage, name, outer.value(i).as_ref()))
            .collect()
    }

    /// A vector field (VectorUDT), densified.
    pub fn vector(&self, name: &str) -> Result<Vec<f64>> {
        let c = self.column(name)?;
        let va =
            VectorArray::try_new(c).map_err(|e| self.stage.param_error(name, e.to_string()))?;
        let v = va
            .value(0)
            .map_err(|e| self.stage.param_error(name, e.to_string()))?
            .ok_or_else(|| self.stage.param_error(name, "null vector"))?;
        Ok(v.to_dense())
    }

    /// A matrix field (MatrixUDT), densified to row-major `(rows, cols, values)`.
    pub fn matrix(&self, name: &str) -> Result<(usize, usize, Vec<f64>)> {
        let c = self.column(name)?;
        let DataType::Struct(_) = c.data_type() else {
            return Err(self.wrong(name, c.data_type()));
        };
        let s = c.as_struct();
        let err = |m: &str| self.stage.param_error(name, m.to_string());
        let get = |f: &str| {
            s.column_by_name(f)
                .ok_or_else(|| err(&format!("matrix has no '{f}'")))
        };
        let int = |f: &str| -> Result<usize> {
            let a = get(f)?;
            match a.data_type() {
                DataType::Int32 => usize::try_from(a.as_primitive::<Int32Type>().value(0))
                    .map_err(|_| err(&format!("negative {f}"))),
                t => Err(self.wrong(name, t)),
            }
        };
        let list_i32 = |f: &str| -> Result<Option<Vec<i32>>> {
            let a = get(f)?;
            if a.is_null(0) {
                return Ok(None);
            }
            Ok(Some(
                a.as_list::<i32>()
                    .value(0)
                    .as_primitive::<Int32Type>()
                    .values()
                    .to_vec(),
            ))
        };
        let kind = get("type")?.as_primitive::<Int8Type>().value(0);
        let rows = int("numRows")?;
        let cols = int("numCols")?;
        let values = get("values")?;
        if values.is_null(0) {
            return Err(err("matrix without values"));
        }
        let values = values.as_list::<i32>().value(0);
        let values = values.as_primitive::<Float64Type>().values();
        let transposed = get("isTransposed")?.as_boolean().value(0);
        let mut out = vec![0.0; rows * cols];
        match kind {
            1 => {
                if values.len() != rows * cols {
                    return Err(err("dense matrix size does not match its values"));
                }
                for r in 0..rows {
                    for k in 0..cols {
                        out[r * cols + k] = if transposed {
                            values[r * cols + k]
                        } else {
                            values[k * rows + r]
                        };
                    }
                }
            }
            0 => {
                // compressed sparse columns (or rows when transposed)
                let ptrs =
                    list_i32("colPtrs")?.ok_or_else(|| err("sparse matrix without colPtrs"))?;
                let idx = list_i32("rowIndices")?
                    .ok_or_else(|| err("sparse matrix without rowIndices"))?;
                let (major, minor) = if transposed {
                    (rows, cols)
                } else {
                    (cols, rows)
                };
                if ptrs.len() != major + 1 || idx.len() != values.len() {
                    return Err(err("malformed sparse matrix"));
                }
                for m in 0..major {
                    let (start, end) = (ptrs[m] as usize, ptrs[m + 1] as usize);
                    if start > end || end > values.len() {
                        return Err(err("malformed sparse matrix"));
                    }
                    for p in start..end {
                        let n = usize::try_from(idx[p])
                            .ok()
                            .filter(|n| *n < minor)
                            .ok_or_else(|| err("matrix index out of range"))?;
                        let (r, k) = if transposed { (m, n) } else { (n, m) };
                        out[r * cols + k] = values[p];
                    }
                }
            }
            t => return Err(err(&format!("unknown matrix type {t}"))),
        }
        Ok((rows, cols, out))
    }
}

fn strings_of(stage: &SparkStageDir, name: &str, a: &dyn Array) -> Result<Vec<String>> {
    match a.data_type() {
        DataType::Utf8 => Ok(a
            .as_string::<i32>()
            .iter()
            .map(|s| s.unwrap_or_default().to_string())
            .collect()),
        DataType::LargeUtf8 => Ok(a
            .as_string::<i64>()
            .iter()
            .map(|s| s.unwrap_or_default().to_string())
            .collect()),
        DataType::Utf8View => Ok(a
            .as_string_view()
            .iter()
            .map(|s| s.unwrap_or_default().to_string())
            .collect()),
        t => Err(stage.param_error(name, format!("expected strings, found {t}"))),
    }
}

/// A loader turning a saved stage into a [`Stage`].
pub type SparkLoader = fn(&SparkStageDir) -> Result<Arc<dyn Stage>>;

/// A loader turning a saved stage into several stages, in order (OneVsRest: its inner models
/// and the stage combining them; RFormula: its inner pipeline). It may load model directories
/// nested in the stage's own with [`SparkStageDir::load_nested`] and `registry`.
pub type SparkNestedLoader = fn(&SparkStageDir, &SparkRegistry) -> Result<Vec<Arc<dyn Stage>>>;

/// How a class is loaded: into one stage, or into several.
#[derive(Debug, Clone, Copy)]
pub enum SparkLoad {
    /// One stage.
    One(SparkLoader),
    /// Several stages (possibly read from nested model directories).
    Many(SparkNestedLoader),
}

/// Class name → loader, for every class a load can meet (`stages::spark_registry()`).
pub type SparkRegistry = [(&'static str, SparkLoad)];

impl SparkStageDir {
    /// Loads the model saved in the subdirectory `sub` of this stage's directory (a stage, or a
    /// whole `PipelineModel`), with the same model-directory checks and limits, into its
    /// stages in order.
    pub fn load_nested(&self, sub: &str, registry: &SparkRegistry) -> Result<Vec<Arc<dyn Stage>>> {
        let invalid = sub.is_empty()
            || Path::new(sub)
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)));
        if invalid {
            return Err(self.param_error(sub, "not a subdirectory name"));
        }
        let nested = SparkStageDir::open_in(&self.model, &self.path.join(sub), self.limits)?;
        let mut out = Vec::new();
        load_into(&nested, registry, &mut out)?;
        Ok(out)
    }
}

/// A loaded Spark model directory.
#[derive(Debug)]
pub struct SparkModel {
    /// The root uid.
    pub uid: String,
    /// The Spark version that saved it.
    pub spark_version: String,
    /// The stages in execution order, nested pipelines flattened.
    pub stages: Vec<Arc<dyn Stage>>,
}

/// Loads the pipeline (or single model) saved at `path`, with the default limits.
pub fn load(path: &Path, registry: &SparkRegistry) -> Result<SparkModel> {
    load_with_limits(path, BundleLimits::default(), registry)
}

/// Loads the pipeline (or single model) saved at `path`; each metadata file is bounded by
/// `limits.max_file_bytes`, and every file read must be a regular file inside `path` (symlinks
/// are followed only when they resolve inside it).
pub fn load_with_limits(
    path: &Path,
    limits: BundleLimits,
    registry: &SparkRegistry,
) -> Result<SparkModel> {
    let model = ModelDir::new(path)?;
    let root = SparkStageDir::open_in(&model, path, limits)?;
    let mut stages = Vec::new();
    load_into(&root, registry, &mut stages)?;
    Ok(SparkModel {
        uid: root.uid.clone(),
        spark_version: root.spark_version.clone(),
        stages,
    })
}

fn load_into(
    dir: &SparkStageDir,
    registry: &SparkRegistry,
    out: &mut Vec<Arc<dyn Stage>>,
) -> Result<()> {
    if !PIPELINE_MODELS.contains(&dir.class.as_str()) {
        let loader = registry
            .iter()
            .find(|(c, _)| *c == dir.class)
            .map(|(_, l)| l)
            .ok_or_else(|| EmberError::UnsupportedStage {
                uid: dir.uid.clone(),
                class: dir.class.clone(),
                where_: format!(" (in {})", dir.path.display()),
                supported: registry.iter().map(|(c, _)| c.to_string()).collect(),
            })?;
        match loader {
            SparkLoad::One(load) => out.push(load(dir)?),
            SparkLoad::Many(load) => out.extend(load(dir, registry)?),
        }
        return Ok(());
    }
    let uids = dir.strings("stageUids")?.ok_or_else(|| {
        EmberError::format(
            dir.path.join("metadata"),
            "PipelineModel metadata has no stageUids",
        )
    })?;
    let stages_dir = dir.path.join("stages");
    let entries: Vec<String> = if uids.is_empty() {
        Vec::new()
    } else {
        dir.model.dir(&stages_dir)?;
        fs::read_dir(&stages_dir)
            .map_err(io_err(&stages_dir))?
            .filter_map(|e| {
                e.ok()
                    .and_then(|e| e.file_name().to_str().map(str::to_string))
            })
            .collect()
    };
    for (i, uid) in uids.iter().enumerate() {
        // "<i>_<uid>", with <i> zero-padded to the width of the stage count
        let found = entries.iter().find(|name| {
            name.split_once('_')
                .is_some_and(|(idx, rest)| rest == uid && idx.parse::<usize>().ok() == Some(i))
        });
        let Some(name) = found else {
            return Err(EmberError::format(
                &stages_dir,
                format!("no directory for stage {i} ('{uid}'); expected '{i}_{uid}'"),
            ));
        };
        let stage = SparkStageDir::open_in(&dir.model, &stages_dir.join(name), dir.limits)?;
        if &stage.uid != uid {
            return Err(EmberError::format(
                &stage.path,
                format!(
                    "metadata uid '{}' does not match the pipeline's '{uid}'",
                    stage.uid
                ),
            ));
        }
        load_into(&stage, registry, out)?;
    }
    Ok(())
}
