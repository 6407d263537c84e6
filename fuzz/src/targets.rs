//! The target functions (see the crate docs for what each one feeds).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::Array;
use ember_engine::formats::mleap::{self, files::BundleFiles, files::ZipBundle};
use ember_engine::formats::{mleap::files::open_bundle, spark as spark_format};
use ember_engine::stages::{mleap_registry, spark_registry};
use ember_engine::{BundleLimits, EmberError, Pipeline};
use ember_server::serve::contract::{Accept, BasicType, BodyFormat, DataSchema, Prepared};
use ember_server::serve::decode::{Records, build_batch, parse_body};
use ember_server::serve::error::ApiError;
use ember_server::serve::render::render;
use ember_udfs::cast::parse_vector;
use ember_udfs::shown::Shown;
use ember_udfs::vector::{VectorArray, VectorBuilder, VectorRef};

use crate::{bounded_message, files, models};

/// Bounds for reading a fuzzed bundle: small, so a decompression bomb costs little.
const LIMITS: BundleLimits = BundleLimits {
    max_entries: 1_000,
    max_total_bytes: 64 << 20,
    max_file_bytes: 16 << 20,
};

/// A client's mistake must be a 4xx with a bounded message.
fn client_error(stage: &str, e: &ApiError) {
    assert!(
        e.status.is_client_error(),
        "{stage}: answered {} (not a 4xx): {}",
        e.status,
        Shown(&e.message)
    );
    bounded_message(stage, &e.message);
}

/// A model-loading error must come back as an error with a bounded message (the bundle's own
/// path is part of it, so the bound is the same [`crate::MAX_MESSAGE`]).
fn load_error(stage: &str, e: &EmberError) {
    bounded_message(stage, &e.to_string());
}

thread_local! {
    /// Request schemas prepared so far, per model, as the server caches them (at most 256).
    static PREPARED: RefCell<HashMap<(usize, DataSchema), Arc<Prepared>>> =
        RefCell::new(HashMap::new());
}

fn prepared_for(model: usize, schema: DataSchema) -> Result<Arc<Prepared>, ApiError> {
    let key = (model, schema);
    if let Some(p) = PREPARED.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(p);
    }
    let p = Arc::new(
        Prepared::from_schema(
            &models()[model].pipeline,
            &key.1,
            ember_server::serve::contract::DEFAULT_MAX_SCHEMA_COLUMNS,
        )
        .map_err(|e| ApiError::bad_request(format!("schema: {e}")))?,
    );
    PREPARED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 256 {
            c.clear();
        }
        c.insert(key, Arc::clone(&p));
    });
    Ok(p)
}

/// A request body, as `POST /invocations` handles it after reading it: `parse_body`, the
/// body's schema or the model's default, `build_batch`, evaluation, rendering.
///
/// The first byte chooses the request: `b % 3` the format (CSV, JSON, JSON lines), `b / 3 % 3`
/// the model and default schema ([`models`]), `b / 9 % 3` the `Accept` (CSV, JSON lines,
/// JSON lines with `data=text`). The rest is the body.
///
/// Holds: every error is a 4xx with a bounded message (a 5xx is a failure: it would be the
/// server's fault); a batch has the prepared input schema and one row per record (CSV) or at
/// most [`Records::max_rows`] (JSON); the rendered answer has one line per record.
pub fn body(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let s = usize::from(selector);
    let format = [BodyFormat::Csv, BodyFormat::Json, BodyFormat::JsonLines][s % 3];
    let model = (s / 3) % 3;
    let accept = [Accept::Csv, Accept::JsonLines, Accept::JsonLinesText][(s / 9) % 3];

    let (schema, records) = match parse_body(format, body) {
        Ok(parsed) => parsed,
        Err(e) => return client_error("parse_body", &e),
    };
    let prepared = match schema {
        None => None,
        Some(schema) => match prepared_for(model, schema) {
            Ok(p) => Some(p),
            Err(e) => return client_error("request schema", &e),
        },
    };
    let prepared: &Prepared = prepared.as_deref().unwrap_or(&models()[model].prepared);
    let batch = match build_batch(&records, prepared) {
        Ok(b) => b,
        Err(e) => return client_error("build_batch", &e),
    };
    assert_eq!(
        batch.schema(),
        Arc::clone(prepared.compiled.input_schema()),
        "build_batch: the batch's schema is not the prepared input schema"
    );
    match &records {
        Records::Csv(r) => assert_eq!(batch.num_rows(), r.len(), "CSV: one row per record"),
        Records::Json(_) => assert!(
            batch.num_rows() <= records.max_rows(),
            "JSON: {} rows from at most {} records",
            batch.num_rows(),
            records.max_rows()
        ),
    }
    let (out, rows) = match prepared.compiled.evaluate_rows(&batch) {
        Ok(scored) => scored,
        Err(e) => return client_error("evaluate", &ApiError::from_ember(e)),
    };
    let column = Arc::clone(out.column(prepared.output_index));
    let text = match render(
        &column,
        rows.as_deref(),
        batch.num_rows(),
        accept,
        prepared.output.structure,
        &ember_server::serve::render::RenderLimits::default(),
    ) {
        Ok(t) => t,
        Err(e) => return client_error("render", &e),
    };
    // one line per record (strings may hold line breaks of their own under CSV)
    if batch.num_rows() > 0 && prepared.output.ty != BasicType::String {
        assert_eq!(
            text.split('\n').count(),
            batch.num_rows(),
            "render: not one line per record: {}",
            Shown(&text)
        );
    }
}

/// Spark's vector text, into a [`VectorBuilder`] by `parse_vector`.
///
/// Holds: an error has a bounded message; a parsed vector is one valid row whose size and
/// values agree with an independent reading of the text (dense: the comma-separated numbers;
/// sparse: the declared size, the indices strictly increasing and below it).
pub fn vector(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut builder = VectorBuilder::with_capacity(1, 8);
    if let Err(m) = parse_vector(text, &mut builder) {
        return bounded_message("parse_vector", &m);
    }
    let array = builder.finish_array();
    assert_eq!(array.len(), 1, "parse_vector: one row");
    let vectors = VectorArray::try_new(array.as_ref()).expect("a vector column");
    let v = vectors
        .value(0)
        .unwrap_or_else(|e| panic!("parse_vector built an invalid row: {e}"))
        .expect("a parsed vector is not null");
    let t = text.trim();
    let list = |s: &str| -> Vec<String> {
        let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
        if inner.trim().is_empty() {
            Vec::new()
        } else {
            inner.split(',').map(|x| x.trim().to_string()).collect()
        }
    };
    if t.starts_with('[') {
        let expected: Vec<f64> = list(t)
            .iter()
            .map(|x| x.parse().expect("parse_vector accepted it"))
            .collect();
        assert_eq!(v.size(), expected.len(), "dense size of {}", Shown(t));
        for (i, x) in expected.iter().enumerate() {
            assert_eq!(
                v.get(i).to_bits(),
                x.to_bits(),
                "element {i} of {}",
                Shown(t)
            );
        }
    } else {
        let inner = &t[1..t.len() - 1];
        // Java's Integer.parseInt, which Spark uses, reads "-0" and "-00" as 0
        let declared: usize = inner
            .split(',')
            .next()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .and_then(|n| usize::try_from(n).ok())
            .expect("parse_vector accepted the size");
        assert_eq!(v.size(), declared, "sparse size of {}", Shown(t));
        let VectorRef::Sparse {
            indices, values, ..
        } = v
        else {
            return;
        };
        assert_eq!(indices.len(), values.len());
        assert!(
            indices
                .windows(2)
                .all(|w| w[0] < w[1] && indices.iter().all(|&i| i >= 0 && (i as usize) < declared)),
            "sparse indices of {}",
            Shown(t)
        );
    }
}

/// `SAGEMAKER_SPARKML_SCHEMA` JSON, prepared by `Prepared::new` against the car-evaluation
/// pipeline and against `demo.zip`.
///
/// Holds: an error has a bounded message; a prepared schema has the JSON's input columns in
/// order, compiles for exactly their Arrow types, and its output index names the output column.
pub fn schema(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for (i, model) in models().iter().enumerate().take(2) {
        let p = match Prepared::new(
            &model.pipeline,
            text,
            ember_server::serve::contract::DEFAULT_MAX_SCHEMA_COLUMNS,
        ) {
            Ok(p) => p,
            Err(m) => {
                bounded_message("Prepared::new", &m);
                continue;
            }
        };
        let parsed: DataSchema = serde_json::from_str(text).expect("Prepared::new parsed it");
        let names: Vec<&str> = parsed.input.iter().map(|c| c.name.as_str()).collect();
        let prepared: Vec<&str> = p.input.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(prepared, names, "model {i}: input columns");
        let arrow = p.compiled.input_schema();
        assert_eq!(
            arrow.fields().len(),
            p.input.len(),
            "model {i}: compiled inputs"
        );
        for (f, c) in arrow.fields().iter().zip(&p.input) {
            assert_eq!(f.name(), &c.name, "model {i}: compiled input name");
            assert_eq!(
                f.data_type(),
                &c.arrow(),
                "model {i}: column {}",
                Shown(&c.name)
            );
        }
        assert_eq!(p.output.name, parsed.output.name, "model {i}: output");
        assert_eq!(
            p.compiled.output_schema().field(p.output_index).name(),
            &p.output.name,
            "model {i}: output index"
        );
    }
}

/// Compiles a loaded pipeline for its own input schema (errors are fine; panics are not).
fn compile(uid: &str, stages: Vec<Arc<dyn ember_engine::Stage>>) {
    let pipeline = Pipeline::from_stages(uid, stages);
    let input = Arc::new(pipeline.input_schema());
    let _ = pipeline.output_columns();
    if let Err(e) = pipeline.compile(input) {
        load_error("compile", &e);
    }
}

fn load_bundle(files: &dyn BundleFiles) {
    match mleap::load(files, &mleap_registry()) {
        Ok(model) => compile(&model.info.name, model.stages),
        Err(e) => load_error("mleap::load", &e),
    }
}

/// A scratch directory for this thread, `ember-fuzz-<pid>-<n>` on tmpfs when there is one.
/// Targets remove what they write after each run; the first scratch directory a process makes
/// also removes those of processes that are gone (AFL forks a process per batch of runs).
fn scratch() -> &'static Path {
    thread_local! {
        static DIR: &'static Path = Box::leak(make_scratch().into_boxed_path());
    }
    DIR.with(|d| *d)
}

fn make_scratch() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    if n == 0
        && let Ok(entries) = std::fs::read_dir(&base)
    {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name
                .strip_prefix("ember-fuzz-")
                .and_then(|r| r.split('-').next())
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(pid) = pid
                && pid != std::process::id()
                && !Path::new(&format!("/proc/{pid}")).exists()
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = base.join(format!("ember-fuzz-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// An MLeap bundle. The input is, by its first bytes: a zip archive (`PK`, read in memory by
/// `ZipBundle::from_bytes`); a file list (`=== path` lines, see [`files`]), zipped in memory
/// and read the same way — so mutations reach `bundle.json`, `node.json`, `model.json`/`.pb`;
/// or anything else, written to a temp file and opened by `open_bundle` (tar, tar.gz, a tar
/// holding a zip). Loaded stages are compiled for their input schema.
///
/// Holds: errors have bounded messages (limits: 1 000 entries, 64 MiB).
pub fn mleap(data: &[u8]) {
    if data.starts_with(b"PK") {
        match ZipBundle::from_bytes(Path::new("fuzz.zip"), data.to_vec(), LIMITS) {
            Ok(b) => load_bundle(&b),
            Err(e) => load_error("ZipBundle", &e),
        }
    } else if let Some(list) = files::parse(data) {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, content) in &list {
            if zip.start_file(name.as_str(), stored).is_err() {
                return;
            }
            zip.write_all(content).expect("writing to memory");
        }
        let bytes = zip.finish().expect("writing to memory").into_inner();
        match ZipBundle::from_bytes(Path::new("fuzz.zip"), bytes, LIMITS) {
            Ok(b) => load_bundle(&b),
            Err(e) => load_error("ZipBundle (file list)", &e),
        }
    } else {
        let path = scratch().join("bundle.tar.gz");
        std::fs::write(&path, data).expect("writing the scratch bundle");
        match open_bundle(&path, LIMITS) {
            Ok(b) => load_bundle(b.as_ref()),
            Err(e) => load_error("open_bundle", &e),
        }
        let _ = std::fs::remove_file(&path);
    }
}

/// A Spark `PipelineModel.save()` directory, written to a temp directory and read by
/// `spark::load`. The input is a file list (see [`files`]: `metadata/part-00000`,
/// `stages/0_uid/metadata/part-00000`, `stages/0_uid/data/part-0.parquet`, ..), or, when it
/// is not one, a single stage's metadata JSON (`metadata/part-00000` of a one-model
/// directory, so its params are read though its data is absent). Loaded stages are compiled
/// for their input schema.
///
/// Holds: errors have bounded messages.
pub fn spark(data: &[u8]) {
    let root: PathBuf = scratch().join("model");
    if root.exists() {
        std::fs::remove_dir_all(&root).expect("clearing the scratch model");
    }
    std::fs::create_dir_all(root.join("metadata")).expect("a scratch model directory");
    let list = files::parse(data).unwrap_or_else(|| vec![("metadata/part-00000".into(), data)]);
    for (name, content) in list {
        let Some(rel) = files::safe_path(&name) else {
            continue;
        };
        let path = root.join(rel);
        if let Some(parent) = path.parent()
            && std::fs::create_dir_all(parent).is_err()
        {
            continue; // a file where a directory is needed
        }
        if path.is_dir() {
            continue;
        }
        std::fs::write(&path, content).expect("writing a scratch file");
    }
    let loaded = spark_format::load(&root, &spark_registry());
    let _ = std::fs::remove_dir_all(&root);
    match loaded {
        Ok(model) => compile(&model.uid, model.stages),
        Err(e) => load_error("spark::load", &e),
    }
}
