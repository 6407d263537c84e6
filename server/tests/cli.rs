//! The `ember` binary end to end: real files in, real files out, compared with Spark's own
//! output for the same rows (tests/fixtures/spark, written by scripts/gen_spark_fixtures.py).

mod support;

use std::path::{Path, PathBuf};

use support::common::*;
use support::*;

fn score(case: &Path, input: &Path, output: &Path, extra: &[&str]) -> Run {
    ember_score(&case_model(case), &[input], output, extra)
}

fn ok_cases() -> Vec<PathBuf> {
    spark_fixtures()
        .into_iter()
        .filter(|c| case_json(c).get("spark_error").is_none())
        .collect()
}

fn output_columns(case: &Path) -> Vec<String> {
    let all: Vec<String> = case_json(case)["output_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let input = read_parquet(&case.join("input.parquet"));
    let inputs: Vec<String> = input
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    all.into_iter().filter(|c| !inputs.contains(c)).collect()
}

fn compare_outputs(case: &Path, actual: &Path, only_produced: bool) -> Result<(), String> {
    let expected = read_parquet(&case.join("expected.parquet"));
    let actual = read_parquet(actual);
    if !only_produced {
        return compare_batches(&expected, &in_order_of(&actual, &expected));
    }
    if expected.num_rows() != actual.num_rows() {
        return Err(format!(
            "{} rows expected, {} found",
            expected.num_rows(),
            actual.num_rows()
        ));
    }
    for c in output_columns(case) {
        let e = expected
            .column_by_name(&c)
            .ok_or(format!("expected has no {c}"))?;
        let a = actual
            .column_by_name(&c)
            .ok_or(format!("output has no {c}"))?;
        compare_column(&c, e, a)?;
    }
    Ok(())
}

/// `actual`'s columns in `expected`'s order when both hold the same names. Spark's JSON writer
/// omits null fields, so a JSON lines input whose first record has a null lists that column
/// later; ember keeps the file's order of first appearance (docs/ARCHITECTURE.md). The Parquet
/// test checks column order strictly.
fn in_order_of(
    actual: &arrow::array::RecordBatch,
    expected: &arrow::array::RecordBatch,
) -> arrow::array::RecordBatch {
    let names = |b: &arrow::array::RecordBatch| -> Vec<String> {
        let mut n: Vec<String> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        n.sort();
        n
    };
    if names(actual) != names(expected) {
        return actual.clone();
    }
    let order: Vec<usize> = expected
        .schema()
        .fields()
        .iter()
        .map(|f| actual.schema().index_of(f.name()).unwrap())
        .collect();
    actual.project(&order).unwrap()
}

fn run_all(input_name: &str, only_produced: bool, extra: &[&str], skip: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in ok_cases() {
        if skip.iter().any(|s| case.ends_with(s)) {
            continue;
        }
        let input = case.join(input_name);
        if !input.exists() {
            continue;
        }
        ran += 1;
        let name = case_name(&case);
        let out = dir
            .path()
            .join(format!("{}.parquet", name.replace('/', "_")));
        let o = score(&case, &input, &out, extra);
        if !o.status.success() {
            failures.push(format!("{name}: ember failed: {}", o.stderr));
            continue;
        }
        if let Err(e) = compare_outputs(&case, &out, only_produced) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(ran >= 10, "only {ran} fixtures have {input_name}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn parquet_input_matches_spark_in_every_column() {
    // small batches on two threads: exercises the parallel plan and the row-order merge
    run_all(
        "input.parquet",
        false,
        &["--batch-size", "7", "--threads", "2"],
        &[],
    );
}

#[test]
fn json_lines_input_matches_spark_in_every_column() {
    run_all("input.jsonl", false, &["--threads", "2"], &[]);
}

#[test]
fn csv_input_matches_spark_in_every_produced_column() {
    // CSV carries no types: ember reads each column as its first stage needs it.
    // si_orders holds an empty-string label, which Spark writes as `""`; ember reads every
    // empty CSV field as null (see empty_csv_fields_read_as_null and the README).
    // The text and string_map cases hold empty strings too.
    run_all(
        "input.csv",
        true,
        &["--batch-size", "5"],
        &[
            "si_orders",
            "text_pipeline",
            "text_tokenizers",
            "mleap_string_map",
        ],
    );
}

#[test]
fn empty_csv_fields_read_as_null() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "id,color\n1,red\n2,\n3,\"\"\n").unwrap();
    // keep mode: null maps to the extra index, like an unseen label
    let case = root().join("tests/fixtures/spark/si_keep");
    let out = dir.path().join("out.jsonl");
    let o = score(&case, &input, &out, &[]);
    assert!(o.status.success(), "{}", o.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        rows[1].get("color").is_none() && rows[2].get("color").is_none(),
        "{text}"
    );
    assert_eq!(rows[1]["color_idx"], rows[2]["color_idx"]);
    // error mode: Spark's null message
    let case = root().join("tests/fixtures/spark/si_error_null");
    let o = score(&case, &input, &out, &[]);
    assert!(o.stderr.contains("NULL value"), "{}", o.stderr);
}

#[test]
fn json_lines_output_is_what_spark_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in ok_cases() {
        let name = case_name(&case);
        let out = dir.path().join(format!("{}.jsonl", name.replace('/', "_")));
        let o = score(&case, &case.join("input.parquet"), &out, &[]);
        assert!(o.status.success(), "{name}: {}", o.stderr);
        let expected = std::fs::read_to_string(case.join("expected.jsonl")).unwrap();
        let actual = std::fs::read_to_string(&out).unwrap();
        if let Err(e) = compare_json_lines(&expected, &actual) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn parquet_output_carries_spark_schema_metadata() {
    let case = root().join("tests/fixtures/spark/car_evaluation");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.parquet");
    let o = score(&case, &case.join("input.csv"), &out, &[]);
    assert!(o.status.success(), "{}", o.stderr);
    let file = std::fs::File::open(&out).unwrap();
    let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
    use parquet::file::reader::FileReader;
    let kv = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .cloned()
        .unwrap_or_default();
    let spark = kv
        .iter()
        .find(|k| k.key == "org.apache.spark.sql.parquet.row.metadata")
        .and_then(|k| k.value.clone())
        .expect("Spark schema metadata");
    let v: serde_json::Value = serde_json::from_str(&spark).unwrap();
    let features = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "features")
        .unwrap();
    assert_eq!(
        features["type"]["class"],
        "org.apache.spark.ml.linalg.VectorUDT"
    );
    let prediction = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "prediction")
        .unwrap();
    assert_eq!(prediction["type"], "double");
}

#[test]
fn csv_output_uses_spark_text_forms() {
    let case = root().join("tests/fixtures/spark/car_evaluation");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let o = score(
        &case,
        &case.join("input.csv"),
        &out,
        &[
            "--select",
            "buying,buying_vec,features,probability,prediction,predicted_class",
        ],
    );
    assert!(o.status.success(), "{}", o.stderr);
    let expected = read_parquet(&case.join("expected.parquet"));
    let mut reader = csv::Reader::from_path(&out).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "buying",
            "buying_vec",
            "features",
            "probability",
            "prediction",
            "predicted_class"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), expected.num_rows());
    use arrow::array::AsArray;
    let labels = expected.column_by_name("predicted_class").unwrap();
    let labels = arrow::compute::cast(labels, &arrow::datatypes::DataType::Utf8).unwrap();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(&r[5], labels.as_string::<i32>().value(i), "row {i}");
        // vectors in Vector.toString form: sparse "(n,[i..],[v..])", dense "[v,..]"
        assert!(r[1].starts_with('('), "{}", &r[1]);
        assert!(r[3].starts_with('[') && r[3].ends_with(']'), "{}", &r[3]);
        assert!(
            r[4].ends_with(".0"),
            "prediction {} is not Java-formatted",
            &r[4]
        );
    }
}

#[test]
fn several_inputs_are_one_input_in_order() {
    let case = root().join("tests/fixtures/spark/car_evaluation");
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(case.join("input.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rest: Vec<&str> = lines.collect();
    let (a, b) = rest.split_at(77);
    let (pa, pb) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    std::fs::write(&pa, format!("{header}\n{}\n", a.join("\n"))).unwrap();
    std::fs::write(&pb, format!("{header}\n{}\n", b.join("\n"))).unwrap();
    let out = dir.path().join("out.parquet");
    let model = case.join("model");
    let o = ember_score(&model, &[&pa, &pb], &out, &["--batch-size", "10"]);
    assert!(o.status.success(), "{}", o.stderr);
    compare_outputs(&case, &out, false).unwrap();
    assert!(
        o.stderr
            .contains("rows in 200, rows out 200, rows skipped 0"),
        "{}",
        o.stderr
    );
}

#[test]
fn summary_counts_skipped_rows() {
    let case = root().join("tests/fixtures/spark/si_skip");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.parquet");
    let o = score(&case, &case.join("input.parquet"), &out, &[]);
    assert!(o.status.success(), "{}", o.stderr);
    let meta = case_json(&case);
    let (rows, kept) = (
        meta["rows"].as_u64().unwrap(),
        meta["expected_rows"].as_u64().unwrap(),
    );
    assert!(rows > kept);
    let line = format!(
        "rows in {rows}, rows out {kept}, rows skipped {}",
        rows - kept
    );
    assert!(o.stderr.contains(&line), "{line} not in {}", o.stderr);
}

#[test]
fn a_row_spark_rejects_fails_the_run_and_leaves_no_output() {
    for (case, phrase) in [
        ("si_error_unseen", "Unseen label: purple"),
        ("si_error_null", "NULL value"),
        ("ohe_error_unseen", "Unseen value: 9.0"),
        ("va_error_nan", "Encountered NaN"),
        ("its_error_unseen", "Unseen index: 4.0"),
    ] {
        let case = root().join("tests/fixtures/spark").join(case);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.parquet");
        let o = score(&case, &case.join("input.parquet"), &out, &[]);
        assert!(!o.status.success());
        let err = o.stderr;
        assert!(err.contains(phrase), "{phrase} not in {err}");
        // the message names the stage
        let uid_dir = std::fs::read_dir(case.join("model/stages"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let uid = uid_dir
            .file_name()
            .to_string_lossy()
            .split_once('_')
            .unwrap()
            .1
            .to_string();
        assert!(err.contains(&uid) || err.contains("on column"), "{err}");
        assert!(!out.exists(), "a failed run must not leave an output file");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no partial files left"
        );
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let case = root().join("tests/fixtures/spark/va_keep");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // a non-number in a column the pipeline reads as double
    let bad = write("bad.csv", "id,d,i,cat\n1,1.5,2,0\n2,abc,3,1\n");
    let o = score(&case, &bad, &out, &[]);
    assert!(!o.status.success());
    assert!(
        o.stderr.contains("abc") && o.stderr.contains("bad.csv"),
        "{}",
        o.stderr
    );
    // a column the pipeline needs is missing
    let missing = write("missing.csv", "id,d,cat\n1,1.5,0\n");
    let o = score(&case, &missing, &out, &[]);
    assert!(!o.status.success());
    assert!(o.stderr.contains("column 'i'"), "{}", o.stderr);
    // malformed JSON names its line
    let json = write(
        "bad.jsonl",
        "{\"id\":1,\"d\":1.0,\"i\":1,\"cat\":0.0}\n{\"id\":2,\"d\":\n",
    );
    let o = score(&case, &json, &out, &[]);
    assert!(!o.status.success());
    assert!(o.stderr.contains("line 2"), "{}", o.stderr);
    // unknown extension
    let o = score(&case, &write("x.txt", "a"), &out, &[]);
    assert!(!o.status.success());
    assert!(o.stderr.contains("format"), "{}", o.stderr);
    // --select of an unknown column
    let good = write("good.csv", "id,d,i,cat\n1,1.5,2,0\n");
    let o = score(&case, &good, &out, &["--select", "features,nope"]);
    assert!(!o.status.success());
    assert!(o.stderr.contains("nope"), "{}", o.stderr);
    assert!(!out.exists());
}

#[test]
fn numeric_looking_strings_stay_strings() {
    // car-evaluation's doors column holds "2", "3", "4", "5more": read as text, never as numbers
    let case = root().join("tests/fixtures/spark/car_evaluation");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let o = score(
        &case,
        &case.join("input.csv"),
        &out,
        &["--select", "doors,doors_index"],
    );
    assert!(o.status.success(), "{}", o.stderr);
    let first = std::fs::read_to_string(&out).unwrap();
    let line: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert!(line["doors"].is_string(), "{line}");
}

#[test]
fn inspect_lists_stages_and_input_columns() {
    let model = root().join("tests/fixtures/spark/car_evaluation/model");
    let o = ember(&["inspect", "--model", model.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["stages"].as_array().unwrap().len(), 10);
    assert_eq!(
        v["stages"][8]["class"],
        "org.apache.spark.ml.classification.LogisticRegressionModel"
    );
    let inputs: Vec<&str> = v["input_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        inputs,
        ["buying", "maint", "doors", "persons", "lug_boot", "safety"]
    );
    assert_eq!(v["input_columns"][0]["type"], "string");
    let o = ember(&["inspect", "--model", "/nonexistent"]);
    assert!(!o.status.success());
    assert!(o.stderr.contains("/nonexistent"));
}

#[test]
fn mleap_bundles_score_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let bundles = root().join("tests/fixtures/mleap-upstream");
    let cases = [
        (
            "demo.zip",
            "demo:a,demo:c,demo:d\n44.5,22.1,98.2\n",
            "demo:prediction",
            -67.78953193834998,
        ),
        (
            "airbnb.model.rf.zip",
            "state,bathrooms,square_feet,bedrooms,security_deposit,cleaning_fee,extra_people,number_of_reviews,review_scores_rating,room_type,host_is_superhost,cancellation_policy,instant_bookable\nNY,2.0,1250.0,3.0,50.0,30.0,2.0,56.0,90.0,Entire home/apt,1.0,strict,1.0\n",
            "price_prediction",
            218.2767196535019,
        ),
    ];
    for (bundle, csv_in, column, expected) in cases {
        let input = dir.path().join(format!("{bundle}.csv"));
        std::fs::write(&input, csv_in).unwrap();
        let out = dir.path().join(format!("{bundle}.out.csv"));
        let model = bundles.join(bundle);
        let o = ember_score(&model, &[&input], &out, &["--select", column]);
        assert!(o.status.success(), "{bundle}: {}", o.stderr);
        let text = std::fs::read_to_string(&out).unwrap();
        let value: f64 = text.lines().nth(1).unwrap().parse().unwrap();
        // asserted by MLeap's own tests
        assert!(
            (value - expected).abs() <= 1e-9 * expected.abs(),
            "{bundle}: {value} != {expected}"
        );
    }
    // a damaged bundle is a one-line error naming the file, not a panic
    let bad = dir.path().join("bad.zip");
    std::fs::write(&bad, b"PK\x03\x04 definitely not a zip").unwrap();
    let o = ember(&["inspect", "--model", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(o.stderr.contains("bad.zip"), "{}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
}

/// Map columns from JSON lines (MLeap's map_entry_selector fixture bundle): objects read as
/// `map<string,double>` / `map<string,string>`; selected values and defaults come out; maps are
/// written as Spark writes them (JSON objects, `{k -> v}` text in CSV, a Spark map type in the
/// Parquet metadata); CSV input is refused naming the column; a null map fails naming the stage
/// and column; `ember inspect` shows the map type.
#[test]
fn map_columns_from_json_lines() {
    let case = root().join("tests/fixtures/spark/mleap_map_entry_selector");
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let input = write(
        "in.jsonl",
        concat!(
            r#"{"m":{"x":0.5,"y":-2.0},"k":"y","tags":{"size":"XL"},"t":"size"}"#,
            "\n",
            r#"{"m":{},"k":"y","tags":{},"t":"size"}"#,
            "\n",
            r#"{"m":{"y":"NaN","z":null},"k":"z","tags":{"size":null},"t":"color"}"#,
            "\n",
            r#"{"m":{"y":1},"tags":{"a":"b"}}"#,
            "\n",
        ),
    );
    let out = dir.path().join("out.jsonl");
    let o = score(&case, &input, &out, &["--select", "m,m_k,m_k_zero,tag"]);
    assert!(o.status.success(), "{}", o.stderr);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        concat!(
            r#"{"m":{"x":0.5,"y":-2.0},"m_k":-2.0,"m_k_zero":-2.0,"tag":"XL"}"#,
            "\n",
            r#"{"m":{},"m_k":42.5,"m_k_zero":0.0,"tag":"none"}"#,
            "\n",
            r#"{"m":{"y":"NaN","z":null},"tag":"none"}"#,
            "\n",
            r#"{"m":{"y":1.0},"m_k":42.5,"m_k_zero":0.0,"tag":"none"}"#,
            "\n",
        )
    );
    let out_csv = dir.path().join("out.csv");
    let o = score(&case, &input, &out_csv, &["--select", "m,tags,m_k"]);
    assert!(o.status.success(), "{}", o.stderr);
    assert_eq!(
        std::fs::read_to_string(&out_csv).unwrap(),
        "m,tags,m_k\n\"{x -> 0.5, y -> -2.0}\",{size -> XL},-2.0\n{},{},42.5\n\
         \"{y -> NaN, z -> null}\",{size -> null},\n{y -> 1.0},{a -> b},42.5\n"
    );
    let out_pq = dir.path().join("out.parquet");
    let o = score(&case, &input, &out_pq, &[]);
    assert!(o.status.success(), "{}", o.stderr);
    let file = std::fs::File::open(&out_pq).unwrap();
    let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
    use parquet::file::reader::FileReader;
    let spark = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| {
            kv.iter()
                .find(|k| k.key == "org.apache.spark.sql.parquet.row.metadata")
                .and_then(|k| k.value.clone())
        })
        .expect("Spark schema metadata");
    let v: serde_json::Value = serde_json::from_str(&spark).unwrap();
    let m = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "m")
        .unwrap();
    assert_eq!(
        m["type"],
        serde_json::json!({"type": "map", "keyType": "string", "valueType": "double",
                           "valueContainsNull": true})
    );
    let scored = read_parquet(&out_pq);
    assert_eq!(scored.num_rows(), 4);

    // CSV cannot hold a map
    let csv = write("in.csv", "m,k,tags,t\n{},a,{},b\n");
    let o = score(&case, &csv, &out, &[]);
    assert!(!o.status.success());
    assert!(
        o.stderr.contains("column 'm'") && o.stderr.contains("map<string,double>"),
        "{}",
        o.stderr
    );
    // a null map: the stage fails naming itself and the column
    let null_map = write(
        "null.jsonl",
        "{\"m\":{\"a\":1.0},\"k\":\"a\",\"tags\":{},\"t\":\"x\"}\n{\"m\":null,\"k\":\"a\",\"tags\":{},\"t\":\"x\"}\n",
    );
    let o = score(&case, &null_map, &out, &[]);
    assert!(!o.status.success());
    let err = o.stderr;
    assert!(
        err.contains("null map") && err.contains("'m'") && err.contains("MapEntrySelectorModel"),
        "{err}"
    );

    let o = ember(&[
        "inspect",
        "--model",
        case.join("bundle").to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let inputs: Vec<(String, String)> = v["input_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        inputs,
        [
            ("m", "map<string,double>"),
            ("k", "string"),
            ("tags", "map<string,string>"),
            ("t", "string")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
}
