//! Real MLeap bundles from public projects (../shared/fixtures/mleap), scored through the MLeap
//! front end; the expected values are the ones the bundles' own projects assert.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use ember::Pipeline;
use ember::formats::mleap::files::{BundleLimits, ZipBundle};
use ember::formats::mleap::read_node;
use ember::udfs::vector::VectorArray;
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/mleap")
}

/// An MLeap LeapFrame JSON (`{"schema": {"fields": [{"name", "type"}]}, "rows": [[...]]}`) as
/// a record batch (string and double columns).
fn leap_frame(path: &std::path::Path) -> RecordBatch {
    let frame: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let fields = frame["schema"]["fields"].as_array().unwrap();
    let rows = frame["rows"].as_array().unwrap();
    let mut schema = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let name = f["name"].as_str().unwrap();
        let cells = rows.iter().map(|r| &r[i]);
        match f["type"].as_str().unwrap() {
            "string" => {
                schema.push(Field::new(name, DataType::Utf8, true));
                columns.push(Arc::new(cells.map(|c| c.as_str()).collect::<StringArray>()));
            }
            "double" => {
                schema.push(Field::new(name, DataType::Float64, true));
                columns.push(Arc::new(
                    cells.map(|c| c.as_f64()).collect::<Float64Array>(),
                ));
            }
            other => panic!("LeapFrame type {other} not handled by this helper"),
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(schema)), columns).unwrap()
}

fn f64_column(batch: &RecordBatch, name: &str) -> Vec<f64> {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_primitive::<Float64Type>()
        .values()
        .to_vec()
}

/// MLeap's own TransformServiceSpec asserts this price for the airbnb random forest.
#[test]
fn airbnb_random_forest_matches_mleap() {
    let pipeline = Pipeline::load(fixtures().join("airbnb.model.rf.zip")).unwrap();
    let input = leap_frame(&fixtures().join("frame.airbnb.json"));
    let out = pipeline
        .compile(input.schema())
        .unwrap()
        .evaluate(&input)
        .unwrap();
    let price = f64_column(&out, "price_prediction");
    assert_eq!(price.len(), 1);
    // MLeap sums the 20 trees in order and divides by 20, as Spark does: the same bits
    assert_eq!(price[0], 218.2767196535019);
}

/// The random forest classifier inside swModel.zip (20 trees, 7 classes) loads on its own
/// (the bundle's tokenizer and word2vec stages are not ember stages).
#[test]
fn sw_model_random_forest_classifier_loads() {
    let files = ZipBundle::open(&fixtures().join("swModel.zip"), BundleLimits::default()).unwrap();
    let node = read_node(&files, "root/rfc_445dc40dddc6.node", "0.9.0", "json").unwrap();
    assert_eq!(node.op, "random_forest_classifier");
    let loader = ember::stages::mleap_registry()
        .into_iter()
        .find(|(op, _)| *op == node.op)
        .map(|(_, l)| l)
        .unwrap();
    let stage = loader(&node, &files).unwrap();
    let params = stage.params();
    let get = |k: &str| params.iter().find(|(p, _)| *p == k).unwrap().1.clone();
    assert_eq!(get("numTrees"), "20");
    assert_eq!(get("numClasses"), "7");
    assert_eq!(get("numFeatures"), "100");
}

/// MLeap's Spark-parity bundles for the tree ops (inside spark-parity.zip) load and score a
/// row: probabilities are distributions and predictions are their classes.
#[test]
fn spark_parity_tree_bundles_load_and_score() {
    // a zip of zipped bundles
    let outer = std::fs::File::open(fixtures().join("spark-parity.zip")).unwrap();
    let mut outer = zip::ZipArchive::new(outer).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for spec in [
        "classification.DecisionTreeClassifierParitySpec",
        "classification.RandomForestClassifierParitySpec",
        "classification.GBTClassifierParitySpec",
        "regression.DecisionTreeRegressionParitySpec",
        "regression.RandomForestRegressionParitySpec",
        "regression.GBTRegressionParitySpec",
    ] {
        let name = format!("org.apache.spark.ml.parity.{spec}.zip");
        let path = dir.path().join(&name);
        let mut entry = outer.by_name(&format!("spark-parity/{name}")).unwrap();
        std::io::copy(&mut entry, &mut std::fs::File::create(&path).unwrap()).unwrap();
        let pipeline = Pipeline::load(&path).unwrap_or_else(|e| panic!("{spec}: {e}"));
        // the lending-club columns these pipelines read
        let mut fields = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for c in pipeline.input_columns() {
            match c.ty {
                ember::ColumnType::Text => {
                    fields.push(Field::new(&c.name, DataType::Utf8, true));
                    let value = if c.name == "fico_score_group_fnl" {
                        "650 - 700"
                    } else {
                        "0.0" // `approved`, indexed into the (unused) label
                    };
                    columns.push(Arc::new(StringArray::from(vec![value])));
                }
                _ => {
                    fields.push(Field::new(&c.name, DataType::Float64, true));
                    columns.push(Arc::new(Float64Array::from(vec![0.2])));
                }
            }
        }
        let input = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        let out = pipeline
            .compile(input.schema())
            .and_then(|c| c.evaluate(&input))
            .unwrap_or_else(|e| panic!("{spec}: {e}"));
        for f in out.schema().fields() {
            if f.name().to_lowercase().contains("probability") {
                let v =
                    VectorArray::try_new(out.column_by_name(f.name()).unwrap().as_ref()).unwrap();
                let p = v.value(0).unwrap().unwrap().to_dense();
                let sum: f64 = p.iter().sum();
                assert!((sum - 1.0).abs() < 1e-12, "{spec}: {p:?}");
            }
        }
        let prediction = out
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .find(|n| n.to_lowercase().contains("prediction") && !n.to_lowercase().contains("raw"))
            .unwrap();
        let p = out.column_by_name(&prediction).unwrap();
        assert_eq!(p.null_count(), 0, "{spec}");
    }
}
