//! Shared helpers for ember's integration tests (the root crate's, and the server package's
//! through server/tests/support): fixture discovery, model copies and Spark-parity comparison.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, RecordBatchReader};
use arrow::compute::{cast, concat_batches};
use arrow::datatypes::{DataType, Float64Type};
use ember_udfs::vector::{VectorArray, VectorRef, is_vector_type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value as Json;

/// Relative tolerance for doubles (the brief's parity rule).
pub const REL_TOL: f64 = 1e-9;

/// The workspace root (this file is shared by the root and the server package's tests).
pub fn root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if here.join("tests/fixtures").is_dir() {
        here
    } else {
        here.parent().unwrap().to_path_buf()
    }
}

/// Copies the directory tree `from` to `to` (created if missing), following no links.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// The `part-*` file of a Spark `metadata/` directory (its one JSON line).
pub fn metadata_part(metadata_dir: &Path) -> PathBuf {
    std::fs::read_dir(metadata_dir)
        .unwrap_or_else(|e| panic!("{}: {e}", metadata_dir.display()))
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("part-")
        })
        .unwrap_or_else(|| panic!("no part- file in {}", metadata_dir.display()))
}

/// Every Spark fixture case: tests/fixtures/spark (Spark 4.0.1) and tests/fixtures/spark35
/// (the same cases written by Spark 3.5.3).
pub fn spark_fixtures() -> Vec<PathBuf> {
    let mut cases = Vec::new();
    for set in ["spark", "spark35"] {
        let dir = root().join("tests/fixtures").join(set);
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("case.json").exists())
            .collect();
        found.sort();
        cases.extend(found);
    }
    cases
}

/// The model a case is scored with: the Spark directory `model/`, or for cases of MLeap ops
/// that have no Spark stage (`mleap_only` in case.json) the bundle `bundle/`.
pub fn case_model(case: &Path) -> PathBuf {
    let spark = case.join("model");
    if spark.is_dir() {
        spark
    } else {
        case.join("bundle")
    }
}

/// `spark35/si_keep` for a case directory.
pub fn case_name(case: &Path) -> String {
    let set = case
        .parent()
        .and_then(|p| p.file_name())
        .unwrap_or_default()
        .to_string_lossy();
    format!(
        "{set}/{}",
        case.file_name().unwrap_or_default().to_string_lossy()
    )
}

pub fn case_json(case: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(case.join("case.json")).unwrap()).unwrap()
}

pub fn read_parquet(path: &Path) -> RecordBatch {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    concat_batches(&schema, &batches).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    if a == b || (a.is_nan() && b.is_nan()) {
        return true;
    }
    (a - b).abs() <= REL_TOL * a.abs().max(b.abs())
}

/// Compares two columns with Spark-parity rules; returns a description of the first mismatch.
pub fn compare_column(name: &str, expected: &ArrayRef, actual: &ArrayRef) -> Result<(), String> {
    if expected.len() != actual.len() {
        return Err(format!(
            "{name}: {} rows expected, {} found",
            expected.len(),
            actual.len()
        ));
    }
    let et = expected.data_type();
    if is_vector_type(et) {
        if !is_vector_type(actual.data_type()) {
            return Err(format!(
                "{name}: expected a vector, found {}",
                actual.data_type()
            ));
        }
        let (e, a) = (
            VectorArray::try_new(expected).unwrap(),
            VectorArray::try_new(actual).unwrap(),
        );
        for i in 0..e.len() {
            let (ev, av) = (e.value(i).unwrap(), a.value(i).unwrap());
            let ok = match (&ev, &av) {
                (None, None) => true,
                (Some(VectorRef::Dense(x)), Some(VectorRef::Dense(y))) => {
                    x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| close(*p, *q))
                }
                (
                    Some(VectorRef::Sparse {
                        size: s1,
                        indices: i1,
                        values: v1,
                    }),
                    Some(VectorRef::Sparse {
                        size: s2,
                        indices: i2,
                        values: v2,
                    }),
                ) => s1 == s2 && i1 == i2 && v1.iter().zip(v2.iter()).all(|(p, q)| close(*p, *q)),
                _ => false,
            };
            if !ok {
                return Err(format!("{name} row {i}: expected {ev:?}, found {av:?}"));
            }
        }
        return Ok(());
    }
    if let DataType::List(_) | DataType::LargeList(_) = et {
        // arrays (of strings): item by item, exactly, whatever the list/string encoding
        let (e, a) = (string_lists(expected), string_lists(actual));
        let a =
            a.ok_or_else(|| format!("{name}: expected a list, found {}", actual.data_type()))?;
        let e = e.unwrap_or_else(|| panic!("{name}: unsupported expected type {et}"));
        for (i, (x, y)) in e.iter().zip(&a).enumerate() {
            if x != y {
                return Err(format!("{name} row {i}: expected {x:?}, found {y:?}"));
            }
        }
        return Ok(());
    }
    if et == &DataType::Float64 || et == &DataType::Float32 {
        let e = cast(expected, &DataType::Float64).unwrap();
        let a = cast(actual, &DataType::Float64).map_err(|err| format!("{name}: {err}"))?;
        let (e, a) = (
            e.as_primitive::<Float64Type>(),
            a.as_primitive::<Float64Type>(),
        );
        for i in 0..e.len() {
            let ok = match (e.is_null(i), a.is_null(i)) {
                (true, true) => true,
                (false, false) => close(e.value(i), a.value(i)),
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "{name} row {i}: expected {:?}, found {:?}",
                    (!e.is_null(i)).then(|| e.value(i)),
                    (!a.is_null(i)).then(|| a.value(i))
                ));
            }
        }
        return Ok(());
    }
    // everything else (strings, integers, booleans) exactly, compared through a common type
    let target = if matches!(
        et,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) {
        DataType::Utf8
    } else {
        et.clone()
    };
    let e = cast(expected, &target).unwrap();
    let a = cast(actual, &target).map_err(|err| format!("{name}: {err}"))?;
    if e.to_data() != a.to_data() {
        for i in 0..e.len() {
            if e.slice(i, 1).to_data() != a.slice(i, 1).to_data() {
                return Err(format!(
                    "{name} row {i}: expected {}, found {}",
                    arrow::util::display::array_value_to_string(&e, i).unwrap(),
                    arrow::util::display::array_value_to_string(&a, i).unwrap()
                ));
            }
        }
    }
    Ok(())
}

/// A list column's rows as optional lists of optional item texts (`None` for non-lists).
fn string_lists(a: &ArrayRef) -> Option<Vec<Option<Vec<Option<String>>>>> {
    let item_text = |items: ArrayRef| -> Vec<Option<String>> {
        (0..items.len())
            .map(|j| {
                (!items.is_null(j))
                    .then(|| arrow::util::display::array_value_to_string(&items, j).unwrap())
            })
            .collect()
    };
    let rows = match a.data_type() {
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            (0..l.len())
                .map(|i| (!l.is_null(i)).then(|| item_text(l.value(i))))
                .collect()
        }
        DataType::LargeList(_) => {
            let l = a.as_list::<i64>();
            (0..l.len())
                .map(|i| (!l.is_null(i)).then(|| item_text(l.value(i))))
                .collect()
        }
        _ => return None,
    };
    Some(rows)
}

/// Compares a whole batch: same column names in the same order, same rows.
pub fn compare_batches(expected: &RecordBatch, actual: &RecordBatch) -> Result<(), String> {
    let en: Vec<&String> = expected
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name())
        .collect();
    let an: Vec<&String> = actual
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name())
        .collect();
    if en != an {
        return Err(format!(
            "columns differ:\n expected {en:?}\n found    {an:?}"
        ));
    }
    if expected.num_rows() != actual.num_rows() {
        return Err(format!(
            "{} rows expected, {} found",
            expected.num_rows(),
            actual.num_rows()
        ));
    }
    for (i, name) in en.iter().enumerate() {
        compare_column(name, expected.column(i), actual.column(i))?;
    }
    Ok(())
}

/// Compares a JSON-lines text with Spark's: the same keys, nesting and strings exactly; numbers
/// numerically within the parity tolerance, and textually identical whenever they are the same
/// double (so Java's number formatting is checked too).
pub fn compare_json_lines(expected: &str, actual: &str) -> Result<(), String> {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    if e.len() != a.len() {
        return Err(format!("{} lines expected, {} found", e.len(), a.len()));
    }
    for (i, (el, al)) in e.iter().zip(&a).enumerate() {
        let (es, en) = split_numbers(el);
        let (as_, an) = split_numbers(al);
        if es != as_ || en.len() != an.len() {
            return Err(format!("line {}:\n expected {el}\n found    {al}", i + 1));
        }
        for (x, y) in en.iter().zip(&an) {
            let (xv, yv): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
            if xv.to_bits() == yv.to_bits() {
                if x != y {
                    return Err(format!("line {}: number {x} written as {y}", i + 1));
                }
            } else if !close(xv, yv) {
                return Err(format!(
                    "line {}: {x} expected, {y} found\n expected {el}\n found    {al}",
                    i + 1
                ));
            }
        }
    }
    Ok(())
}

/// Splits a JSON text into its skeleton (numbers replaced by `#`) and its number tokens.
fn split_numbers(s: &str) -> (String, Vec<String>) {
    let mut skeleton = String::with_capacity(s.len());
    let mut numbers = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            skeleton.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if c == '"' {
            in_string = true;
            skeleton.push(c);
        } else if c == '-' || c.is_ascii_digit() {
            let mut n = String::from(c);
            while let Some(&d) = chars.peek() {
                if d.is_ascii_digit() || matches!(d, '.' | 'E' | 'e' | '-' | '+') {
                    n.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            numbers.push(n);
            skeleton.push('#');
        } else {
            skeleton.push(c);
        }
    }
    (skeleton, numbers)
}

/// One node of a hand-written bundle: name, op, attributes, input and output ports.
pub type TestNode<'a> = (
    &'a str,
    &'a str,
    Json,
    &'a [(&'a str, &'a str)],
    &'a [(&'a str, &'a str)],
);

/// Writes a JSON bundle of `nodes` (in order) into `dir`.
pub fn write_bundle(dir: &Path, nodes: &[TestNode<'_>]) {
    let write = |rel: &str, json: Json| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, json.to_string()).unwrap();
    };
    write(
        "bundle.json",
        serde_json::json!({"uid": "u", "name": "p", "format": "json", "version": "0.23.0",
                           "timestamp": "2026-01-01T00:00:00.000"}),
    );
    write(
        "root/node.json",
        serde_json::json!({"name": "p", "shape": {"inputs": [], "outputs": []}}),
    );
    let names: Vec<&str> = nodes.iter().map(|n| n.0).collect();
    write(
        "root/model.json",
        serde_json::json!({"op": "pipeline", "attributes": {"nodes": {"type": "list", "string": names}}}),
    );
    let sockets = |ports: &[(&str, &str)]| -> Json {
        ports
            .iter()
            .map(|(p, n)| serde_json::json!({"port": p, "name": n}))
            .collect()
    };
    for (name, op, attributes, inputs, outputs) in nodes {
        write(
            &format!("root/{name}.node/node.json"),
            serde_json::json!({"name": name, "shape": {"inputs": sockets(inputs), "outputs": sockets(outputs)}}),
        );
        write(
            &format!("root/{name}.node/model.json"),
            serde_json::json!({"op": op, "attributes": attributes}),
        );
    }
}
