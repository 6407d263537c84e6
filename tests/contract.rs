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
use arrow::datatypes::Float64Type;
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
