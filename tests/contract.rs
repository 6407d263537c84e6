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

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Float64Builder, Int32Array, Int64Array, ListArray,
    ListBuilder, RecordBatch, StringArray, StringBuilder,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::functions::unicode::expr_fn::character_length;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::logical_expr::{cast, col, lit};
use datafusion::prelude::SessionContext;
use ember::formats::mleap::{self, BundleFiles, MleapNode, MleapRegistry, files::open_bundle};
use ember::formats::spark::{self, SparkLoad, SparkRegistry, SparkStageDir};
use ember::stages::{mleap_registry, spark_registry};
use ember::udfs::java_fmt::write_java_double;
use ember::udfs::vector::{VectorBuilder, vector_data_type};
use ember::{
    BundleLimits, ColumnSpec, ColumnType, Pipeline, Result, Stage, StageContext, StagePlan,
};
use ember_engine::io::{DataFormat, Sink};

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

/// Computes one column of every output kind from `x`, by the formulas of
/// scripts/gen_output_kinds.py (a null `x` gives null outputs).
#[derive(Debug)]
struct Kinds;

/// The outputs of [`Kinds`], with their declared kinds.
fn kinds() -> Vec<(&'static str, ColumnType)> {
    vec![
        ("int_out", ColumnType::Integer),
        ("long_out", ColumnType::Arrow(DataType::Int64)),
        ("vectors_out", ColumnType::VectorList),
        ("doubles_out", ColumnType::DoubleList),
        ("strings_out", ColumnType::TextList),
    ]
}

impl Stage for Kinds {
    fn uid(&self) -> &str {
        "Kinds_1"
    }

    fn class(&self) -> &'static str {
        "test.ember.Kinds"
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new("x", ColumnType::Double)]
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        kinds()
            .into_iter()
            .map(|(n, t)| ColumnSpec::new(n, t))
            .collect()
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let mut columns = Vec::new();
        for (name, kind) in kinds() {
            let udf = KindUdf {
                name: ctx.udf_name(&format!("_{name}")),
                output: name,
                ty: kind.arrow_type(),
                signature: Signature::exact(vec![DataType::Float64], Volatility::Immutable),
            };
            columns.push((name.to_string(), ctx.call(udf, vec![ctx.double("x")?])));
        }
        Ok(StagePlan::columns(columns))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct KindUdf {
    name: String,
    output: &'static str,
    ty: DataType,
    signature: Signature,
}

impl ScalarUDFImpl for KindUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(self.ty.clone())
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let x = args.args[0].to_array(args.number_rows)?;
        let x = x.as_primitive::<Float64Type>();
        let item = |t: DataType| Arc::new(Field::new("element", t, true));
        let out: ArrayRef = match self.output {
            "int_out" => Arc::new(
                x.iter()
                    .map(|v| v.map(|v| v.floor() as i32))
                    .collect::<Int32Array>(),
            ),
            "long_out" => Arc::new(
                x.iter()
                    .map(|v| v.map(|v| (v * 1000.0) as i64))
                    .collect::<Int64Array>(),
            ),
            "vectors_out" => {
                let mut b = VectorBuilder::default();
                let mut offsets = vec![0i32];
                for v in x.iter().flatten() {
                    b.push_dense(&[v]);
                    b.push_sparse(3, &[1], &[v]);
                    offsets.push(offsets.last().unwrap() + 2);
                }
                // null rows hold no vectors: repeat the offset
                let mut all = vec![0i32];
                let mut k = 1;
                for v in x.iter() {
                    if v.is_some() {
                        all.push(offsets[k]);
                        k += 1;
                    } else {
                        all.push(*all.last().unwrap());
                    }
                }
                let nulls = NullBuffer::from(x.iter().map(|v| v.is_some()).collect::<Vec<_>>());
                Arc::new(ListArray::new(
                    item(vector_data_type()),
                    OffsetBuffer::new(all.into()),
                    b.finish_array(),
                    Some(nulls),
                ))
            }
            "doubles_out" => {
                let mut b =
                    ListBuilder::new(Float64Builder::new()).with_field(item(DataType::Float64));
                for v in x.iter() {
                    match v {
                        Some(v) => {
                            b.values().append_value(v);
                            b.values().append_value(v * 2.0);
                            b.append(true);
                        }
                        None => b.append(false),
                    }
                }
                Arc::new(b.finish())
            }
            _ => {
                let mut b = ListBuilder::new(StringBuilder::new()).with_field(item(DataType::Utf8));
                for v in x.iter() {
                    match v {
                        Some(v) => {
                            let mut text = String::new();
                            write_java_double(&mut text, v);
                            b.values().append_value("a");
                            b.values().append_null();
                            b.values().append_value(text);
                            b.append(true);
                        }
                        None => b.append(false),
                    }
                }
                Arc::new(b.finish())
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// Appends `tmp = 2x`, then replaces `x` in place by `tmp + 1` and drops `tmp`.
#[derive(Debug)]
struct Rewrite;

impl Stage for Rewrite {
    fn uid(&self) -> &str {
        "Rewrite_1"
    }

    fn class(&self) -> &'static str {
        "test.ember.Rewrite"
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new("x", ColumnType::Double)]
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        vec![
            ColumnSpec::new("tmp", ColumnType::Double),
            ColumnSpec::new("x", ColumnType::Double),
        ]
    }

    fn dropped(&self) -> Vec<String> {
        vec!["tmp".into()]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let tmp = ctx.double("x")? * lit(2.0);
        Ok(StagePlan::columns(vec![("tmp".into(), tmp)])
            .replacing("x", col("tmp") + lit(1.0))
            .dropping(["tmp"]))
    }
}

/// The output is exactly `copied` and `sum = copied + y` (a projection, as SQLTransformer's).
#[derive(Debug)]
struct Reshape;

impl Stage for Reshape {
    fn uid(&self) -> &str {
        "Reshape_1"
    }

    fn class(&self) -> &'static str {
        "test.ember.Reshape"
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![
            ColumnSpec::new("copied", ColumnType::Double),
            ColumnSpec::new("y", ColumnType::Double),
        ]
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new("sum", ColumnType::Double)]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let sum = ctx.double("copied")? + ctx.double("y")?;
        Ok(StagePlan {
            select: Some(vec![("copied".into(), col("copied")), ("sum".into(), sum)]),
            ..StagePlan::default()
        })
    }
}

/// A plan given as it is (for the error cases).
#[derive(Debug)]
struct Planned(StagePlan);

impl Stage for Planned {
    fn uid(&self) -> &str {
        "Planned_1"
    }

    fn class(&self) -> &'static str {
        "test.ember.Planned"
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![]
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        vec![]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![]
    }

    fn compile(&self, _: &StageContext<'_>) -> Result<StagePlan> {
        Ok(self.0.clone())
    }
}

// ------------------------------------------------------------------------------------------
// helpers

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
    common::copy_dir(&si_keep().join("model"), &dir.join("inner"));
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
    common::copy_dir(&fixture.join("root"), &bundle.join("root/inner"));
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

// ------------------------------------------------------------------------------------------
// output kinds beyond double and vector

fn kinds_fixture() -> std::path::PathBuf {
    common::root().join("tests/fixtures/output-kinds")
}

/// Spark's schema JSON in a Parquet file's metadata, as a value.
fn spark_schema(path: &Path) -> serde_json::Value {
    let file = std::fs::File::open(path).unwrap();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let kv = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .unwrap();
    let text = kv
        .iter()
        .find(|k| k.key == "org.apache.spark.sql.parquet.row.metadata")
        .and_then(|k| k.value.clone())
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Each column's Spark type in a schema JSON (nullability aside: Spark's own reads keep
/// neither exactly).
fn spark_types(schema: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    fn strip(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => m
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "nullable" | "containsNull" | "metadata"))
                .map(|(k, v)| (k.clone(), strip(v)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            serde_json::Value::Array(a) => a.iter().map(strip).collect::<Vec<_>>().into(),
            v => v.clone(),
        }
    }
    schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap().to_string(), strip(&f["type"])))
        .collect()
}

fn write(batch: &RecordBatch, format: DataFormat, path: &Path) -> String {
    let mut sink = Sink::create(path, format, &batch.schema()).unwrap();
    sink.write(batch).unwrap();
    sink.finish().unwrap();
    std::fs::read_to_string(path).unwrap_or_default()
}

#[tokio::test]
async fn stages_produce_integer_long_and_array_kinds_written_as_spark_writes_them() {
    let pipeline = Pipeline::from_stages("kinds", vec![Arc::new(Kinds)]);
    let declared: Vec<(String, ColumnType)> = pipeline
        .output_columns()
        .into_iter()
        .map(|c| (c.name, c.ty))
        .collect();
    let expected_kinds: Vec<(String, ColumnType)> =
        kinds().into_iter().map(|(n, t)| (n.into(), t)).collect();
    assert_eq!(declared, expected_kinds);
    let shown: Vec<String> = kinds().iter().map(|(_, t)| t.to_string()).collect();
    assert_eq!(
        shown,
        [
            "integer",
            "Int64",
            "array<vector>",
            "array<double>",
            "array<string>"
        ]
    );

    let spark = common::read_parquet(&kinds_fixture().join("expected.parquet"));
    let input = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)])),
        vec![Arc::clone(spark.column_by_name("x").unwrap())],
    )
    .unwrap();

    // the three execution paths agree, and each column has its kind's Arrow type
    let out = pipeline
        .compile(input.schema())
        .unwrap()
        .evaluate(&input)
        .unwrap();
    for (name, kind) in kinds() {
        let column = out.column_by_name(name).unwrap();
        assert_eq!(column.data_type(), &kind.arrow_type(), "{name}");
        let only = pipeline
            .compile_for(input.schema(), &[name])
            .unwrap()
            .evaluate(&input)
            .unwrap();
        assert_eq!(only.num_columns(), 2);
        assert_eq!(only.column(1).to_data(), column.to_data(), "{name}");
    }
    let ctx = SessionContext::new();
    let df = pipeline
        .transform(ctx.read_batch(input.clone()).unwrap())
        .unwrap();
    let planned =
        arrow::compute::concat_batches(&out.schema(), &df.collect().await.unwrap()).unwrap();
    assert_eq!(planned, out);

    // written as Spark writes the same columns: JSON lines and CSV byte for byte, Parquet
    // with Spark's schema and Spark's values
    let tmp = tempfile::tempdir().unwrap();
    let read = |f: &str| std::fs::read_to_string(kinds_fixture().join(f)).unwrap();
    assert_eq!(
        write(&out, DataFormat::JsonLines, &tmp.path().join("o.jsonl")),
        read("expected.jsonl")
    );
    assert_eq!(
        write(&out, DataFormat::Csv, &tmp.path().join("o.csv")).trim_end(),
        read("expected.csv").trim_end()
    );
    let parquet = tmp.path().join("o.parquet");
    write(&out, DataFormat::Parquet, &parquet);
    assert_eq!(
        spark_types(&spark_schema(&parquet)),
        spark_types(&spark_schema(&kinds_fixture().join("expected.parquet")))
    );
    let back = common::read_parquet(&parquet);
    assert_eq!(
        write(&back, DataFormat::JsonLines, &tmp.path().join("back.jsonl")),
        read("expected.jsonl")
    );
    let spark_read = write(
        &spark,
        DataFormat::JsonLines,
        &tmp.path().join("spark.jsonl"),
    );
    assert_eq!(spark_read, read("expected.jsonl"));
}

// ------------------------------------------------------------------------------------------
// replacing and dropping columns

fn xy(with_row: bool) -> RecordBatch {
    let mut fields = vec![
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Float64, true),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(vec![
            Some(1.0),
            None,
            Some(-2.0),
            Some(0.5),
        ])),
        Arc::new(Float64Array::from(vec![10.0, 20.0, 30.0, 40.0])),
    ];
    if with_row {
        fields.push(Field::new("__ember_row", DataType::Int64, false));
        columns.push(Arc::new(Int64Array::from(vec![7, 8, 9, 10])));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

fn names(batch: &RecordBatch) -> Vec<String> {
    batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

async fn planned(pipeline: &Pipeline, batch: &RecordBatch) -> RecordBatch {
    let ctx = SessionContext::new();
    let df = pipeline
        .transform(ctx.read_batch(batch.clone()).unwrap())
        .unwrap();
    let schema = Arc::new(df.schema().as_arrow().clone());
    arrow::compute::concat_batches(&schema, &df.collect().await.unwrap()).unwrap()
}

fn copy_x() -> Arc<dyn Stage> {
    Arc::new(Copy {
        uid: "Copy_1".into(),
        input: "x".into(),
        output: "copied".into(),
    })
}

#[tokio::test]
async fn a_stage_replaces_and_drops_columns_on_every_path() {
    let pipeline = Pipeline::from_stages("rewrite", vec![Arc::new(Rewrite), copy_x()]);
    let listed: Vec<String> = pipeline
        .output_columns()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(listed, ["x", "copied"]);
    let input = xy(false);
    let rewritten = vec![Some(3.0), None, Some(-3.0), Some(2.0)];

    // x replaced in place (first column still), tmp gone, the next stage reads the new x
    let out = pipeline
        .compile(input.schema())
        .unwrap()
        .evaluate(&input)
        .unwrap();
    assert_eq!(names(&out), ["x", "y", "copied"]);
    assert_eq!(f64s(&out, "x"), rewritten);
    assert_eq!(f64s(&out, "copied"), rewritten);
    assert_eq!(planned(&pipeline, &input).await, out);
    assert_eq!(pipeline.transform_batch(&input).unwrap(), out);

    // pruned and fused for one output: the kept input columns, then the output
    let steps = pipeline.steps(&input.schema()).unwrap();
    let only = pipeline.compile_for(input.schema(), &["copied"]).unwrap();
    let one = only.evaluate(&input).unwrap();
    assert_eq!(names(&one), ["x", "y", "copied"]);
    assert_eq!(f64s(&one, "copied"), rewritten);
    assert_eq!(f64s(&one, "x"), rewritten);
    let pruned = steps.for_outputs(&["copied"]).unwrap();
    assert!(pruned.steps.len() <= steps.steps.len());

    // a kept input column replaced by an expression read once downstream is still kept
    let constant = StagePlan::default().replacing("x", lit(5.0));
    let pipeline = Pipeline::from_stages("constant", vec![Arc::new(Planned(constant)), copy_x()]);
    let one = pipeline
        .compile_for(input.schema(), &["copied"])
        .unwrap()
        .evaluate(&input)
        .unwrap();
    assert_eq!(names(&one), ["x", "y", "copied"]);
    assert_eq!(f64s(&one, "x"), vec![Some(5.0); 4]);
    assert_eq!(f64s(&one, "copied"), vec![Some(5.0); 4]);
}

#[tokio::test]
async fn a_stage_selects_the_whole_output_on_every_path() {
    let pipeline = Pipeline::from_stages(
        "reshape",
        vec![Arc::new(Rewrite), copy_x(), Arc::new(Reshape)],
    );
    let input = xy(false);
    let sums = vec![Some(13.0), None, Some(27.0), Some(42.0)];
    let out = pipeline
        .compile(input.schema())
        .unwrap()
        .evaluate(&input)
        .unwrap();
    assert_eq!(names(&out), ["copied", "sum"]);
    assert_eq!(f64s(&out, "sum"), sums);
    assert_eq!(planned(&pipeline, &input).await, out);
    for name in ["sum", "copied"] {
        let only = pipeline
            .compile_for(input.schema(), &[name])
            .unwrap()
            .evaluate(&input)
            .unwrap();
        // no input column survives the select
        assert_eq!(names(&only), [name]);
        assert_eq!(f64s(&only, name), f64s(&out, name));
    }

    // ember's internal row number survives any select (ember score orders and locates rows
    // by it), on both paths
    let numbered = xy(true);
    let out = pipeline
        .compile(numbered.schema())
        .unwrap()
        .evaluate(&numbered)
        .unwrap();
    assert_eq!(names(&out), ["copied", "sum", "__ember_row"]);
    assert_eq!(planned(&pipeline, &numbered).await, out);
    let only = pipeline
        .compile_for(numbered.schema(), &["sum"])
        .unwrap()
        .evaluate(&numbered)
        .unwrap();
    assert_eq!(names(&only), ["__ember_row", "sum"]);
}

#[test]
fn replacing_dropping_and_selecting_what_is_not_there_are_errors() {
    let input = xy(false);
    let fails = |plan: StagePlan| {
        Pipeline::from_stages("p", vec![Arc::new(Planned(plan))])
            .compile(input.schema())
            .unwrap_err()
            .to_string()
    };
    let e = fails(StagePlan::default().replacing("nope", lit(1.0)));
    assert!(
        e.contains("Planned_1") && e.contains("'nope'") && e.contains("no such column to replace"),
        "{e}"
    );
    let e = fails(StagePlan::default().dropping(["nope"]));
    assert!(
        e.contains("'nope'") && e.contains("no such column to drop"),
        "{e}"
    );
    let e = fails(StagePlan {
        select: Some(vec![("a".into(), col("x")), ("a".into(), col("y"))]),
        ..StagePlan::default()
    });
    assert!(e.contains("'a'") && e.contains("selected twice"), "{e}");
    let e = fails(StagePlan::default().replacing("x", col("nope")));
    assert!(e.contains("Planned_1") && e.contains("nope"), "{e}");
    // appending a column that exists stays an error: replacing must be explicit
    let e = fails(StagePlan::columns(vec![("x".into(), lit(1.0))]));
    assert!(e.contains("output column already exists"), "{e}");
}
