#!/usr/bin/env python3
"""Score the same file with ember and with real Spark (local mode), side by side.

Both read the same CSV, run the same saved PipelineModel (examples/car-evaluation/model by
default) and write Parquet. Spark gets the same number of cores (local[N]); its time is the job
alone (session start-up and model load are reported separately), ember's is the whole process.

    cargo build --release -p ember-server
    .venv-spark/bin/python benches/spark_side_by_side.py --rows 1000000

Prints rows/s for both and their ratio, and checks both predicted the same classes.
"""
import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from gen_spark_fixtures import CAR_VALUES as CAR  # noqa: E402  (the fixture generator's table)


def make_csv(path, rows):
    rng = random.Random(7)
    cols = list(CAR)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for _ in range(rows):
            w.writerow([rng.choice(CAR[c]) for c in cols])


def time_ember(binary, model, data, out, threads):
    if os.path.exists(out):
        os.remove(out)
    t = time.perf_counter()
    subprocess.run([binary, "score", "--model", model, "--input", data, "--output", out,
                    "--quiet", "--threads", str(threads)], check=True)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--model", default=os.path.join(ROOT, "examples", "car-evaluation", "model"))
    ap.add_argument("--ember", default=os.path.join(ROOT, "target", "release", "ember"))
    ap.add_argument("--workdir", default="/tmp/ember-side-by-side")
    ap.add_argument("--cores", type=int, default=os.cpu_count())
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not os.path.exists(args.ember):
        sys.exit(f"{args.ember} not found: cargo build --release -p ember-server")

    os.makedirs(args.workdir, exist_ok=True)
    data = os.path.join(args.workdir, f"cars_{args.rows}.csv")
    if not os.path.exists(data):
        print(f"writing {args.rows} rows to {data}", file=sys.stderr)
        make_csv(data, args.rows)
    size_mb = os.path.getsize(data) / 1e6

    ember_out = os.path.join(args.workdir, "ember.parquet")
    ember_times = [time_ember(args.ember, args.model, data, ember_out, args.cores) for _ in range(args.runs)]

    from pyspark.ml import PipelineModel
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StringType, StructField, StructType

    t = time.perf_counter()
    spark = (SparkSession.builder.master(f"local[{args.cores}]").appName("ember-side-by-side")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", "4g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    startup = time.perf_counter() - t
    t = time.perf_counter()
    model = PipelineModel.load(args.model)
    load = time.perf_counter() - t
    schema = StructType([StructField(c, StringType(), True) for c in CAR])
    spark_out = os.path.join(args.workdir, "spark.parquet")
    spark_times = []
    for _ in range(args.runs):
        shutil.rmtree(spark_out, ignore_errors=True)
        t = time.perf_counter()
        df = spark.read.csv(data, header=True, schema=schema)
        model.transform(df).write.mode("overwrite").parquet(spark_out)
        spark_times.append(time.perf_counter() - t)

    # both must agree on every prediction
    import pyarrow.parquet as pq
    ours = pq.read_table(ember_out, columns=["predicted_class"]).column(0).to_pylist()
    theirs = spark.read.parquet(spark_out).groupBy("predicted_class").count().collect()
    spark.stop()
    ours_counts = {}
    for label in ours:
        ours_counts[label] = ours_counts.get(label, 0) + 1
    theirs_counts = {r["predicted_class"]: r["count"] for r in theirs}
    agree = ours_counts == theirs_counts

    e, s = statistics.median(ember_times), statistics.median(spark_times)
    print(f"car-evaluation pipeline, {args.rows:,} rows of CSV ({size_mb:.0f} MB) -> Parquet, "
          f"{args.cores} cores, median of {args.runs}")
    print(f"{'engine':<22}{'seconds':>10}{'rows/s':>14}")
    print(f"{'ember (whole process)':<22}{e:>10.2f}{args.rows / e:>14,.0f}")
    print(f"{'Spark 4 local (job)':<22}{s:>10.2f}{args.rows / s:>14,.0f}")
    print(f"ratio ember/Spark: {s / e:.1f}x rows/s   "
          f"(Spark start-up {startup:.1f} s and model load {load:.1f} s not counted)")
    print(f"predictions agree: {agree}")
    if not agree:
        print(f"  ember {ours_counts}\n  spark {theirs_counts}")
        sys.exit(1)


if __name__ == "__main__":
    main()
