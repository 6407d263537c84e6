//! In-process latency and throughput of the car-evaluation pipeline (6 StringIndexers,
//! OneHotEncoder, VectorAssembler, multinomial LogisticRegression, IndexToString).
//!
//! ```text
//! cargo bench --bench pipeline
//! ```
//! * `load_and_compile`: read the Spark model directory and compile it for a schema.
//! * `single_row`: one request's work on the compiled path (physical expressions on a 1-row
//!   batch; no planning).
//! * `batch_8192`: the compiled path on an 8192-row batch (one core).
//! * `plan_100k`: the DataFusion plan path on 100k in-memory rows, both cores
//!   (includes planning the query, ~1 ms).
//!
//! The bench allocates with mimalloc, as the `ember` binary does.

use std::fs::File;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::concat_batches;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use ember::Pipeline;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CASE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/spark/car_evaluation"
);

fn input(rows: usize) -> RecordBatch {
    let file = File::open(format!("{CASE}/input.parquet")).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let base = concat_batches(&batches[0].schema(), &batches).unwrap();
    let copies: Vec<RecordBatch> = (0..rows.div_ceil(base.num_rows()))
        .map(|_| base.clone())
        .collect();
    concat_batches(&base.schema(), &copies)
        .unwrap()
        .slice(0, rows)
}

fn bench(c: &mut Criterion) {
    let model = format!("{CASE}/model");
    let pipeline = Pipeline::load(&model).unwrap();
    let one = input(1);
    let batch = input(8192);
    let big = input(100_000);

    let mut g = c.benchmark_group("car_evaluation");
    g.bench_function("load_and_compile", |b| {
        b.iter(|| {
            Pipeline::load(&model)
                .unwrap()
                .compile(one.schema())
                .unwrap()
        })
    });

    let compiled = pipeline.compile(one.schema()).unwrap();
    g.throughput(Throughput::Elements(1));
    g.bench_function("single_row", |b| {
        b.iter(|| compiled.evaluate(&one).unwrap())
    });

    // what `ember serve` compiles: only the requested output column, intermediates fused
    let served = pipeline
        .compile_for(one.schema(), &["predicted_class"])
        .unwrap();
    g.bench_function("single_row_one_output", |b| {
        b.iter(|| served.evaluate(&one).unwrap())
    });

    // a coalesced batch of concurrent requests, as `ember serve` evaluates it under load
    let small = input(32);
    g.throughput(Throughput::Elements(small.num_rows() as u64));
    g.bench_function("batch_32_one_output", |b| {
        b.iter(|| served.evaluate(&small).unwrap())
    });

    g.throughput(Throughput::Elements(batch.num_rows() as u64));
    g.bench_function("batch_8192", |b| {
        b.iter(|| compiled.evaluate(&batch).unwrap())
    });

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let partitions: Vec<Vec<RecordBatch>> = vec![
        (0..big.num_rows())
            .step_by(8192)
            .map(|o| big.slice(o, 8192.min(big.num_rows() - o)))
            .collect(),
    ];
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    let table = Arc::new(MemTable::try_new(big.schema(), partitions).unwrap());
    g.throughput(Throughput::Elements(big.num_rows() as u64));
    g.sample_size(20);
    g.bench_function("plan_100k", |b| {
        b.iter(|| {
            rt.block_on(async {
                let df = pipeline
                    .transform(ctx.read_table(Arc::clone(&table) as _).unwrap())
                    .unwrap();
                df.collect().await.unwrap()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
