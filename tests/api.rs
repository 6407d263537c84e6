//! The library API: DataFrames, SQL with registered UDFs, single batches, errors.

mod common;

use std::sync::Arc;

use arrow::array::{Array, AsArray, Float64Array, RecordBatch, StringArray};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Field, Schema};
use common::*;
use datafusion::prelude::*;
use ember::stages::{index_to_string::IndexToString, string_indexer::StringIndexer};
use ember::udfs::HandleInvalid;
use ember::{EmberError, Pipeline};

fn car() -> (Pipeline, RecordBatch, RecordBatch) {
    let case = root().join("tests/fixtures/spark/car_evaluation");
    (
        Pipeline::load(case.join("model")).unwrap(),
        read_parquet(&case.join("input.parquet")),
        read_parquet(&case.join("expected.parquet")),
    )
}

#[tokio::test]
async fn sql_over_registered_udfs_matches_spark() {
    let (pipeline, input, expected) = car();
    let ctx = SessionContext::new();
    pipeline.register_udfs(&ctx).unwrap();
    ctx.register_batch("cars", input).unwrap();
    // the stage UDFs are named after the stage uids, lower-cased
    let names: Vec<String> = pipeline
        .udfs()
        .unwrap()
        .iter()
        .map(|u| u.name().to_string())
        .collect();
    let si = names
        .iter()
        .find(|n| n.starts_with("stringindexer_"))
        .unwrap();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("logisticregression_") && n.ends_with("_probability"))
    );
    let df = ctx
        .sql(&format!("SELECT buying, {si}(buying) AS idx FROM cars"))
        .await
        .unwrap();
    let out = df.collect().await.unwrap();
    let out = concat_batches(&out[0].schema(), &out).unwrap();
    let idx = out.column_by_name("idx").unwrap();
    // the first StringIndexer indexes `buying` into `buying_index`
    compare_column("idx", expected.column_by_name("buying_index").unwrap(), idx).unwrap();
}

#[tokio::test]
async fn transform_is_lazy_and_composes_with_dataframe_operations() {
    let (pipeline, input, expected) = car();
    let ctx = SessionContext::new();
    let df = pipeline.transform(ctx.read_batch(input).unwrap()).unwrap();
    let df = df
        .filter(col("predicted_class").eq(lit("acc")))
        .unwrap()
        .select_columns(&["predicted_class"])
        .unwrap();
    let rows: usize = df
        .collect()
        .await
        .unwrap()
        .iter()
        .map(|b| b.num_rows())
        .sum();
    let labels = expected
        .column_by_name("predicted_class")
        .unwrap()
        .as_string::<i32>();
    let want = labels.iter().filter(|l| *l == Some("acc")).count();
    assert!(want > 0);
    assert_eq!(rows, want);
}

#[test]
fn compiled_pipeline_scores_single_rows_like_batches() {
    let (pipeline, input, expected) = car();
    let compiled = pipeline.compile(input.schema()).unwrap();
    for row in [0, 17, 199] {
        let one = compiled.evaluate(&input.slice(row, 1)).unwrap();
        compare_batches(&expected.slice(row, 1), &one).unwrap();
    }
    assert_eq!(
        compiled.output_schema().fields().len(),
        expected.num_columns()
    );
}

#[test]
fn compiling_for_one_output_prunes_and_fuses_but_scores_the_same() {
    let (pipeline, input, expected) = car();
    let steps = pipeline.steps(&input.schema()).unwrap();
    let pruned = steps.for_outputs(&["predicted_class"]).unwrap();
    // StringIndexer -> OneHotEncoder -> VectorAssembler -> prediction -> IndexToString, each
    // read once: one nested expression; rawPrediction and probability are not computed
    assert!(steps.steps.len() > 5, "{}", steps.steps.len());
    assert_eq!(pruned.steps.len(), 1);
    let names: Vec<&str> = pruned
        .output
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names.last(), Some(&"predicted_class"));
    assert!(!names.contains(&"probability"), "{names:?}");

    let compiled = pipeline
        .compile_for(input.schema(), &["probability", "predicted_class"])
        .unwrap();
    let out = compiled.evaluate(&input).unwrap();
    assert_eq!(out.num_columns(), input.num_columns() + 2);
    for name in ["probability", "predicted_class"] {
        compare_column(
            name,
            expected.column_by_name(name).unwrap(),
            out.column_by_name(name).unwrap(),
        )
        .unwrap();
    }
    // rows one at a time, as a server scores them
    let served = pipeline
        .compile_for(input.schema(), &["predicted_class"])
        .unwrap();
    for row in [0, 17, 199] {
        let one = served.evaluate(&input.slice(row, 1)).unwrap();
        compare_column(
            "predicted_class",
            &expected
                .column_by_name("predicted_class")
                .unwrap()
                .slice(row, 1),
            one.column_by_name("predicted_class").unwrap(),
        )
        .unwrap();
    }
    let err = pipeline
        .compile_for(input.schema(), &["no_such_column"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no_such_column") && err.contains("predicted_class"),
        "{err}"
    );
}

#[test]
fn pruning_keeps_skip_filters_so_the_same_rows_survive() {
    // the skip filter on `ci` stays even when only an input column is asked for
    let si = StringIndexer::new(
        "si",
        vec!["c".into()],
        vec!["ci".into()],
        vec![vec!["a".into(), "b".into()]],
        HandleInvalid::Skip,
    );
    let pipeline = Pipeline::from_stages("p", vec![Arc::new(si)]);
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("c", DataType::Utf8, true)])),
        vec![Arc::new(StringArray::from(vec![
            Some("a"),
            Some("x"),
            None,
            Some("b"),
        ]))],
    )
    .unwrap();
    let out = pipeline
        .compile_for(batch.schema(), &["c"])
        .unwrap()
        .evaluate(&batch)
        .unwrap();
    assert_eq!(out.num_columns(), 1);
    let c = out.column(0).as_string::<i32>();
    assert_eq!(c.iter().collect::<Vec<_>>(), vec![Some("a"), Some("b")]);
}

#[test]
fn errors_name_the_row_of_the_input_even_after_skipped_rows() {
    // StringIndexer (skip) drops rows 1 and 3; IndexToString then rejects original row 4
    let si = StringIndexer::new(
        "si",
        vec!["c".into()],
        vec!["ci".into()],
        vec![vec!["a".into(), "b".into(), "z".into()]],
        HandleInvalid::Skip,
    );
    let its = IndexToString::new(
        "its",
        "ci".into(),
        "label".into(),
        Some(vec!["A".into(), "B".into()]),
    );
    let pipeline = Pipeline::from_stages("p", vec![Arc::new(si), Arc::new(its)]);
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("c", DataType::Utf8, true)])),
        vec![Arc::new(StringArray::from(vec![
            Some("a"),
            Some("x"),
            Some("b"),
            None,
            Some("z"),
        ]))],
    )
    .unwrap();
    let err = pipeline.transform_batch(&batch).unwrap_err();
    match &err {
        EmberError::Row { row, source } => {
            assert_eq!(*row, 4, "{err}");
            assert_eq!(source.stage.uid.as_ref(), "its");
            assert!(source.message.contains("Unseen index: 2.0"), "{err}");
        }
        other => panic!("expected a row error, got {other}"),
    }
    // without the bad row, the skipped rows are gone and the rest is scored
    let ok = pipeline.transform_batch(&batch.slice(0, 4)).unwrap();
    assert_eq!(ok.num_rows(), 2);
    let labels = ok.column_by_name("label").unwrap().as_string::<i32>();
    assert_eq!((labels.value(0), labels.value(1)), ("A", "B"));
}

#[test]
fn wrong_input_types_and_missing_columns_are_compile_errors() {
    let (pipeline, _, _) = car();
    let schema = Schema::new(vec![Field::new("buying", DataType::Utf8, true)]);
    let err = pipeline.compile(Arc::new(schema)).unwrap_err().to_string();
    assert!(err.contains("maint"), "{err}");

    let case = root().join("tests/fixtures/spark/va_keep");
    let p = Pipeline::load(case.join("model")).unwrap();
    let schema = Schema::new(vec![
        Field::new("d", DataType::Utf8, true),
        Field::new("i", DataType::Int32, true),
        Field::new("cat", DataType::Float64, true),
    ]);
    let err = p.compile(Arc::new(schema)).unwrap_err();
    assert!(matches!(err, EmberError::Compile { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("VectorAssembler") && text.contains("'d'") && text.contains("numeric"),
        "{text}"
    );
}

#[test]
fn input_columns_are_cast_as_spark_casts_them() {
    // StringIndexer fitted on doubles holds labels like "1.0E7": a Float64 input is cast with
    // Java's Double.toString, an Int32 input as plain digits
    let case = root().join("tests/fixtures/spark/si_numeric");
    let pipeline = Pipeline::load(case.join("model")).unwrap();
    let input = read_parquet(&case.join("input.parquet"));
    let out = pipeline.transform_batch(&input).unwrap();
    let expected = read_parquet(&case.join("expected.parquet"));
    compare_batches(&expected, &out).unwrap();
    let d = input
        .column_by_name("d")
        .unwrap()
        .as_primitive::<arrow::datatypes::Float64Type>();
    assert!(
        d.values().contains(&1e7),
        "the fixture exercises the exponent form"
    );
    // a single row built in code gets the index Spark gave the same values
    let n = input
        .column_by_name("n")
        .unwrap()
        .as_primitive::<arrow::datatypes::Int32Type>();
    let row = (0..input.num_rows())
        .find(|i| n.is_valid(*i) && d.is_valid(*i))
        .unwrap();
    let one = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("d", DataType::Float64, true),
            Field::new("n", DataType::Int32, true),
            Field::new("l", DataType::Int64, true),
        ])),
        vec![
            Arc::new(Float64Array::from(vec![d.value(row)])),
            Arc::new(arrow::array::Int32Array::from(vec![n.value(row)])),
            input.column_by_name("l").unwrap().slice(row, 1),
        ],
    )
    .unwrap();
    let out = pipeline.transform_batch(&one).unwrap();
    for c in ["d_i", "n_i", "l_i"] {
        compare_column(
            c,
            &expected.column_by_name(c).unwrap().slice(row, 1),
            out.column_by_name(c).unwrap(),
        )
        .unwrap();
    }
}

/// A copy of a fixture model with one stage's metadata JSON edited.
fn edited_model(
    case: &str,
    stage_prefix: &str,
    edit: impl Fn(&mut serde_json::Value),
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &root().join("tests/fixtures/spark").join(case).join("model"),
        dir.path(),
    );
    let stage = std::fs::read_dir(dir.path().join("stages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(stage_prefix)
        })
        .unwrap();
    let part = metadata_part(&stage.join("metadata"));
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&part).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&part, v.to_string()).unwrap();
    dir
}

#[test]
fn unknown_stage_class_is_a_load_error_listing_what_is_supported() {
    let dir = edited_model("car_evaluation", "08_", |v| {
        v["class"] = "org.apache.spark.ml.classification.FMClassificationModel".into();
    });
    let err = Pipeline::load(dir.path()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, EmberError::UnsupportedStage { .. }), "{text}");
    assert!(
        text.contains("FMClassificationModel") && text.contains("LogisticRegression_"),
        "{text}"
    );
    assert!(
        text.contains("org.apache.spark.ml.feature.StringIndexerModel"),
        "supported list missing: {text}"
    );
}

#[test]
fn unsupported_param_values_are_load_errors_naming_the_param() {
    // OneHotEncoder has no "skip"
    let dir = edited_model("car_evaluation", "06_", |v| {
        v["paramMap"]["handleInvalid"] = "skip".into();
    });
    let text = Pipeline::load(dir.path()).unwrap_err().to_string();
    assert!(
        text.contains("handleInvalid") && text.contains("skip") && text.contains("OneHotEncoder_"),
        "{text}"
    );
    // a param of the wrong JSON type
    let dir = edited_model("car_evaluation", "08_", |v| {
        v["paramMap"]["threshold"] = "high".into();
    });
    let text = Pipeline::load(dir.path()).unwrap_err().to_string();
    assert!(
        text.contains("threshold") && text.contains("LogisticRegression_"),
        "{text}"
    );
    // thresholds that do not fit the number of classes
    let dir = edited_model("car_evaluation", "08_", |v| {
        v["paramMap"]["thresholds"] = serde_json::json!([0.5, 0.5]);
    });
    let text = Pipeline::load(dir.path()).unwrap_err().to_string();
    assert!(
        text.contains("thresholds") && text.contains("4 classes"),
        "{text}"
    );
}

#[test]
fn damaged_model_directories_are_errors_not_panics() {
    // metadata that is not JSON
    let dir = edited_model("car_evaluation", "00_", |_| {});
    let stage = std::fs::read_dir(dir.path().join("stages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("00_"))
        .unwrap();
    let part = std::fs::read_dir(stage.join("metadata"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    std::fs::write(&part, "{not json").unwrap();
    let text = Pipeline::load(dir.path()).unwrap_err().to_string();
    assert!(text.contains("metadata") && text.contains("JSON"), "{text}");
    // model data that is not Parquet
    let dir = edited_model("car_evaluation", "00_", |_| {});
    let stage = std::fs::read_dir(dir.path().join("stages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("00_"))
        .unwrap();
    let data = std::fs::read_dir(stage.join("data"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    std::fs::write(&data, b"PAR1 garbage").unwrap();
    let text = Pipeline::load(dir.path()).unwrap_err().to_string();
    assert!(text.contains("Parquet"), "{text}");
    // a stage directory missing
    let dir = edited_model("car_evaluation", "00_", |_| {});
    let stage = std::fs::read_dir(dir.path().join("stages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("03_"))
        .unwrap();
    std::fs::remove_dir_all(stage).unwrap();
    let text = Pipeline::load(dir.path()).unwrap_err().to_string();
    assert!(text.contains("stage 3"), "{text}");
    // not a model at all
    let text = Pipeline::load(root().join("docs")).unwrap_err().to_string();
    assert!(text.contains("PipelineModel.save()"), "{text}");
}
