//! The stage contract's widenings, each proven with small test-only stages (the Spark classes
//! that need them come later):
//!
//! * a loader returning several stages, loading nested model directories (Spark) and nested
//!   nodes (MLeap);
//! * a stage reading several columns of different kinds;
//! * output kinds beyond double and vector (integer, `array<vector>`, `array<double>`,
//!   `array<string>`, any Arrow type), through every execution path and every writer;
//! * a stage replacing and dropping columns, through every execution path.

mod common;

use std::path::Path;
use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch};
use arrow::array::{Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::functions::unicode::expr_fn::character_length;
use datafusion::logical_expr::cast;
use datafusion::prelude::SessionContext;
use ember::formats::mleap::{self, BundleFiles, MleapNode, MleapRegistry, files::open_bundle};
use ember::formats::spark::{self, SparkLoad, SparkRegistry, SparkStageDir};
use ember::stages::{mleap_registry, spark_registry};
use ember::{
    BundleLimits, ColumnSpec, ColumnType, Pipeline, Result, Stage, StageContext, StagePlan,
};

// ------------------------------------------------------------------------------------------
// test-only stages

/// Copies a double column into a new one.
#[derive(Debug)]
struct Copy {
    uid: String,
    input: String,
    output: String,
}

impl Stage for Copy {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        "test.ember.Copy"
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new(&self.input, ColumnType::Double)]
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new(&self.output, ColumnType::Double)]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        Ok(StagePlan::columns(vec![(
            self.output.clone(),
            ctx.double(&self.input)?,
        )]))
    }
}

/// Reads several columns of different kinds: `a` and `b` of any type (a number counts as
/// itself, a string as its length), `x` a double; writes `a + b + x`.
#[derive(Debug)]
struct Mixed;

impl Stage for Mixed {
    fn uid(&self) -> &str {
        "Mixed_1"
    }

    fn class(&self) -> &'static str {
        "test.ember.Mixed"
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![
            ColumnSpec::new("a", ColumnType::Any),
            ColumnSpec::new("b", ColumnType::Any),
            ColumnSpec::new("x", ColumnType::Double),
        ]
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new("sum", ColumnType::Double)]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let mut sum = ctx.double("x")?;
        for name in ["a", "b"] {
            let (e, t) = ctx.column(name)?;
            let value = if t.is_numeric() {
                cast(ctx.numeric(name)?, DataType::Float64)
            } else if matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8) {
                cast(character_length(e), DataType::Float64)
            } else {
                return Err(ctx.error(name, format!("unsupported type {t}")));
            };
            sum = sum + value;
        }
        Ok(StagePlan::columns(vec![("sum".into(), sum)]))
    }
}

// ------------------------------------------------------------------------------------------
// helpers

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn si_keep() -> std::path::PathBuf {
    common::root().join("tests/fixtures/spark/si_keep")
}

fn f64s(batch: &RecordBatch, name: &str) -> Vec<Option<f64>> {
    let c = batch.column_by_name(name).unwrap();
    c.as_primitive::<Float64Type>().iter().collect()
}

/// Scores si_keep's input with `stages` and checks Spark's `color_idx` and its copy.
fn check_si_keep_with_copy(stages: Vec<Arc<dyn Stage>>) {
    let names: Vec<&str> = stages.iter().map(|s| s.class()).collect();
    assert_eq!(
        names,
        [
            "org.apache.spark.ml.feature.StringIndexerModel",
            "test.ember.Copy"
        ]
    );
    let pipeline = Pipeline::from_stages("wrapped", stages);
    let input = common::read_parquet(&si_keep().join("input.parquet"));
    let expected = common::read_parquet(&si_keep().join("expected.parquet"));
    let out = pipeline.transform_batch(&input).unwrap();
    common::compare_column(
        "color_idx",
        expected.column_by_name("color_idx").unwrap(),
        out.column_by_name("color_idx").unwrap(),
    )
    .unwrap();
    assert_eq!(f64s(&out, "copied"), f64s(&out, "color_idx"));
}

// ------------------------------------------------------------------------------------------
// a loader returning several stages

fn wrapper_from_spark(
    dir: &SparkStageDir,
    registry: &SparkRegistry,
) -> Result<Vec<Arc<dyn Stage>>> {
    let mut stages = dir.load_nested(&dir.required_string("innerDir")?, registry)?;
    stages.push(Arc::new(Copy {
        uid: dir.uid.clone(),
        input: dir.required_string("inputCol")?,
        output: dir.required_string("outputCol")?,
    }));
    Ok(stages)
}

fn wrapper_from_mleap(
    node: &MleapNode,
    files: &dyn BundleFiles,
    registry: &MleapRegistry,
) -> Result<Vec<Arc<dyn Stage>>> {
    let mut stages = mleap::load_nested(node, "inner", files, registry)?;
    stages.push(Arc::new(Copy {
        uid: node.name.clone(),
        input: node.required_input("input")?,
        output: node.required_output("output")?,
    }));
    Ok(stages)
}

fn spark_wrapper(dir: &Path, inner_dir: &str) {
    std::fs::create_dir_all(dir.join("metadata")).unwrap();
    let meta = serde_json::json!({
        "class": "test.ember.Wrapper", "timestamp": 0, "sparkVersion": "4.0.1",
        "uid": "Wrapper_1",
        "paramMap": {"inputCol": "color_idx", "outputCol": "copied", "innerDir": inner_dir},
        "defaultParamMap": {}
    });
    std::fs::write(dir.join("metadata/part-00000"), meta.to_string()).unwrap();
}

#[test]
fn a_spark_loader_returns_several_stages_from_nested_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("wrapper");
    copy_dir(&si_keep().join("model"), &dir.join("inner"));
    spark_wrapper(&dir, "inner");
    let mut registry = spark_registry();
    registry.push(("test.ember.Wrapper", SparkLoad::Many(wrapper_from_spark)));
    let model = spark::load(&dir, &registry).unwrap();
    check_si_keep_with_copy(model.stages);

    // the nested directory goes through the same reader: an unknown class inside is named
    let unknown = spark::load(&dir, &spark_registry()[..1])
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("test.ember.Wrapper"), "{unknown}");
    registry.truncate(registry.len() - 1);
    registry.retain(|(c, _)| !c.ends_with("StringIndexerModel"));
    registry.push(("test.ember.Wrapper", SparkLoad::Many(wrapper_from_spark)));
    let inner = spark::load(&dir, &registry).unwrap_err().to_string();
    assert!(inner.contains("StringIndexerModel"), "{inner}");

    // only subdirectories of the stage's own directory
    for bad in ["..", "../wrapper", "/tmp", "inner/../.."] {
        spark_wrapper(&dir, bad);
        let mut registry = spark_registry();
        registry.push(("test.ember.Wrapper", SparkLoad::Many(wrapper_from_spark)));
        let e = spark::load(&dir, &registry).unwrap_err().to_string();
        assert!(e.contains("not a subdirectory name"), "{bad}: {e}");
    }
}

#[test]
fn an_mleap_loader_returns_several_stages_from_nested_nodes() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = tmp.path().join("bundle");
    let fixture = si_keep().join("bundle");
    std::fs::create_dir_all(bundle.join("root")).unwrap();
    std::fs::copy(fixture.join("bundle.json"), bundle.join("bundle.json")).unwrap();
    copy_dir(&fixture.join("root"), &bundle.join("root/inner"));
    let node = serde_json::json!({"name": "wrapper", "shape": {
        "inputs": [{"port": "input", "name": "color_idx"}],
        "outputs": [{"port": "output", "name": "copied"}]}});
    std::fs::write(bundle.join("root/node.json"), node.to_string()).unwrap();
    std::fs::write(
        bundle.join("root/model.json"),
        r#"{"op": "test_wrapper", "attributes": {}}"#,
    )
    .unwrap();
    let files = open_bundle(&bundle, BundleLimits::default()).unwrap();
    let mut registry = mleap_registry();
    registry.push(("test_wrapper", mleap::MleapLoad::Many(wrapper_from_mleap)));
    let model = mleap::load(files.as_ref(), &registry).unwrap();
    check_si_keep_with_copy(model.stages);
}

// ------------------------------------------------------------------------------------------
// a stage reading several columns of different kinds

#[tokio::test]
async fn a_stage_reads_several_columns_of_different_kinds() {
    let pipeline = Pipeline::from_stages("mixed", vec![Arc::new(Mixed)]);
    let kinds: Vec<(String, ColumnType)> = pipeline
        .input_columns()
        .into_iter()
        .map(|c| (c.name, c.ty))
        .collect();
    assert_eq!(
        kinds,
        [
            ("a".to_string(), ColumnType::Any),
            ("b".to_string(), ColumnType::Any),
            ("x".to_string(), ColumnType::Double)
        ]
    );
    // CSV holds no types: `any` columns stay text, as Spark's CSV source reads them
    let header = ["a", "b", "x"].map(String::from);
    let csv = pipeline.read_schema(&header).unwrap();
    let types: Vec<&DataType> = csv.fields().iter().map(|f| f.data_type()).collect();
    assert_eq!(
        types,
        [&DataType::Utf8, &DataType::Utf8, &DataType::Float64]
    );

    // typed input (Parquet, JSON): each `any` column keeps its type and the stage decides
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("b", DataType::Utf8, true),
        Field::new("x", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int64Array::from(vec![Some(1), Some(10), None])),
            Arc::new(StringArray::from(vec![Some("abc"), Some(""), Some("z")])),
            Arc::new(Float64Array::from(vec![0.5, 1.5, 2.5])),
        ],
    )
    .unwrap();
    let expected = vec![Some(4.5), Some(11.5), None];
    let compiled = pipeline.compile(Arc::clone(&schema)).unwrap();
    assert_eq!(f64s(&compiled.evaluate(&batch).unwrap(), "sum"), expected);
    let only = pipeline.compile_for(Arc::clone(&schema), &["sum"]).unwrap();
    assert_eq!(f64s(&only.evaluate(&batch).unwrap(), "sum"), expected);
    let ctx = SessionContext::new();
    let df = pipeline
        .transform(ctx.read_batch(batch.clone()).unwrap())
        .unwrap();
    let planned = df.collect().await.unwrap();
    assert_eq!(f64s(&planned[0], "sum"), expected);

    // a type the stage does not take is a compile error naming the stage and column
    let bad = Schema::new(vec![
        Field::new("a", DataType::Boolean, true),
        Field::new("b", DataType::Utf8, true),
        Field::new("x", DataType::Float64, true),
    ]);
    let e = pipeline.compile(Arc::new(bad)).unwrap_err().to_string();
    assert!(
        e.contains("Mixed_1") && e.contains("'a'") && e.contains("unsupported type Boolean"),
        "{e}"
    );
}
