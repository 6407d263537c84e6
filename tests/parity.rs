//! Spark parity: every fixture written by scripts/gen_spark_fixtures.py (real Spark 4.0.1) is
//! scored by ember through both execution paths, and every output column is compared with
//! Spark's own `transform()` output (doubles within 1e-9 relative, everything else exact).

mod common;

use std::path::Path;

use arrow::array::RecordBatch;
use arrow::compute::concat_batches;
use common::*;
use datafusion::prelude::SessionContext;
use ember::Pipeline;

/// One way of running a pipeline on a batch.
type Runner = fn(&Pipeline, &RecordBatch) -> ember::Result<RecordBatch>;

fn physical(pipeline: &Pipeline, input: &RecordBatch) -> ember::Result<RecordBatch> {
    pipeline.compile(input.schema())?.evaluate(input)
}

/// The compiled path asked for one output column at a time (`Pipeline::compile_for`, which
/// prunes what that column does not need and fuses single-use intermediates, as `ember serve`
/// does), reassembled into the full output.
fn per_column(pipeline: &Pipeline, input: &RecordBatch) -> ember::Result<RecordBatch> {
    let full = pipeline.compile(input.schema())?;
    let full = full.output_schema();
    let n_input = input.num_columns();
    let mut columns = input.columns().to_vec();
    for field in &full.fields()[n_input..] {
        let one = pipeline
            .compile_for(input.schema(), &[field.name().as_str()])?
            .evaluate(input)?;
        assert_eq!(one.num_columns(), n_input + 1, "{}", field.name());
        columns.push(std::sync::Arc::clone(one.column(n_input)));
        if columns[0].len() != one.num_rows() {
            // rows were dropped (handleInvalid = skip): the input columns follow the survivors
            columns = one.columns()[..n_input]
                .iter()
                .cloned()
                .chain(columns[n_input..].iter().cloned())
                .collect();
        }
    }
    Ok(RecordBatch::try_new(std::sync::Arc::clone(full), columns)?)
}

fn planned(pipeline: &Pipeline, input: &RecordBatch) -> ember::Result<RecordBatch> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let ctx = SessionContext::new();
        let df = pipeline.transform(ctx.read_batch(input.clone())?)?;
        let schema = df.schema().as_arrow().clone();
        let batches = df.collect().await?;
        Ok(concat_batches(&std::sync::Arc::new(schema), &batches)?)
    })
}

fn check_case(case: &Path) -> Result<(), String> {
    check_model(case, &case_model(case))
}

/// Scores the case's input with the model at `model` (the Spark directory, or the same stages
/// written as an MLeap bundle) and compares with Spark's output.
fn check_model(case: &Path, model: &Path) -> Result<(), String> {
    let meta = case_json(case);
    let pipeline = Pipeline::load(model).map_err(|e| format!("load: {e}"))?;
    let input = read_parquet(&case.join("input.parquet"));
    let paths: [(&str, Runner); 3] = [
        ("compiled", physical),
        ("compiled per output column", per_column),
        ("planned", planned),
    ];
    for (path, run) in paths {
        let out = run(&pipeline, &input);
        match meta.get("spark_error").and_then(|v| v.as_str()) {
            Some(spark) => {
                let spark = spark
                    .trim_start_matches("org.apache.spark.SparkException: ")
                    .trim_start_matches("java.lang.IllegalArgumentException: ");
                let err = match out {
                    Ok(_) => {
                        return Err(format!("{path}: Spark failed ({spark}) but ember did not"));
                    }
                    Err(e) => e.to_string(),
                };
                // ember reuses Spark's wording; Spark's recorded text may be cut at a line end
                if !err.contains(spark.lines().next().unwrap_or(spark)) {
                    return Err(format!(
                        "{path}: error differs\n spark: {spark}\n ember: {err}"
                    ));
                }
            }
            None => {
                let out = out.map_err(|e| format!("{path}: {e}"))?;
                let expected = read_parquet(&case.join("expected.parquet"));
                compare_batches(&expected, &out).map_err(|e| format!("{path}: {e}"))?;
            }
        }
    }
    Ok(())
}

#[test]
fn spark_fixtures_match_spark() {
    let cases = spark_fixtures();
    assert!(cases.len() >= 40, "fixtures missing: {}", cases.len());
    for version in ["4.0.1", "3.5.3"] {
        assert!(
            cases
                .iter()
                .any(|c| case_json(c)["spark_version"] == version),
            "no fixtures written by Spark {version}"
        );
    }
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            check_case(c)
                .err()
                .map(|e| format!("{}: {e}", case_name(c)))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// Cross-format parity: the fixture cases whose stages scripts/mleap_bundle_writer.py could
/// write as an MLeap bundle (`<case>/bundle/`) give Spark's output through the MLeap front end
/// too, and fail with Spark's message where Spark fails.
#[test]
fn mleap_bundles_of_the_fixtures_match_spark() {
    let cases: Vec<_> = spark_fixtures()
        .into_iter()
        .filter(|c| c.join("bundle").is_dir())
        .collect();
    assert!(cases.len() >= 40, "bundles missing: {}", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            check_model(c, &c.join("bundle"))
                .err()
                .map(|e| format!("{}: {e}", case_name(c)))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} bundles failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
