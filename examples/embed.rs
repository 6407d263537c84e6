//! Embedding ember in a Rust program: score through a DataFusion plan, call the pipeline's
//! stages from SQL, and score a single row with no planning.
//!
//! ```text
//! cargo run --example embed
//! ```

use std::sync::Arc;

use arrow::array::{RecordBatch, StringArray};
use arrow::util::pretty::print_batches;
use datafusion::prelude::*;
use ember::Pipeline;

const MODEL: &str = "examples/car-evaluation/model";
const INPUT: &str = "examples/car-evaluation/input.csv";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pipeline = Pipeline::load(MODEL)?;

    // 1. A DataFusion plan over any DataFrame. The input schema comes from the pipeline: every
    //    column typed as the stage reading it needs (here: six strings).
    let ctx = SessionContext::new();
    let schema = pipeline.input_schema();
    let input = ctx
        .read_csv(INPUT, CsvReadOptions::new().schema(&schema))
        .await?;
    let scored = pipeline.transform(input)?;
    println!("DataFrame: first rows");
    scored
        .clone()
        .select_columns(&[
            "buying",
            "maint",
            "safety",
            "probability",
            "predicted_class",
        ])?
        .show_limit(3)
        .await?;

    // 2. SQL: every stage is a named UDF (its Spark uid, lower-cased).
    pipeline.register_udfs(&ctx)?;
    ctx.register_csv("cars", INPUT, CsvReadOptions::new().schema(&schema))
        .await?;
    let indexer = pipeline
        .udfs()?
        .iter()
        .map(|u| u.name().to_string())
        .find(|n| n.starts_with("stringindexer_"))
        .unwrap_or_default();
    let sql = format!(
        "SELECT buying, {indexer}(buying) AS buying_index, count(*) AS n FROM cars GROUP BY 1, 2 ORDER BY 2"
    );
    println!("SQL: {sql}");
    ctx.sql(&sql).await?.show().await?;

    // 3. One row, no planning: compile once, evaluate per request (microseconds).
    let compiled = pipeline.compile(Arc::new(schema))?;
    let row = RecordBatch::try_new(
        Arc::clone(compiled.input_schema()),
        ["low", "low", "4", "more", "big", "high"]
            .into_iter()
            .map(|v| Arc::new(StringArray::from(vec![v])) as _)
            .collect(),
    )?;
    let started = std::time::Instant::now();
    let out = compiled.evaluate(&row)?;
    let took = started.elapsed();
    println!("one row in {took:?}:");
    print_batches(&[out.project(&[
        out.schema().index_of("probability")?,
        out.schema().index_of("predicted_class")?,
    ])?])?;
    Ok(())
}
