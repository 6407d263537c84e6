#!/usr/bin/env python3
"""Generate tests/fixtures/output-kinds/: how Spark writes the column kinds beyond double and
vector that stages produce (integer, long, array<vector>, array<double>, array<string>).

tests/contract.rs scores the `x` column with a test-only stage computing the same columns
by the same formulas, writes them with ember's writers, and compares with these files: Spark's
JSON writer (expected.jsonl), Spark's Parquet writer (expected.parquet, with Spark's schema in
its metadata), and Spark's CSV writer on the columns cast to string as Spark casts them
(expected.csv; Spark's CSV source refuses arrays, and ember writes arrays in CSV in Spark's
cast-to-string form).

Usage (Java 17 on PATH; any of the project's venvs):
    /work/venv-spark40/bin/python scripts/gen_output_kinds.py
"""
import os
import shutil
import sys

from pyspark.ml.linalg import Vectors, VectorUDT
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DoubleType, StructField, StructType

from gen_spark_fixtures import single_file  # one Spark part file kept as `dest`

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "output-kinds")
X = [0.5, 2.0, -1.5, 1e7, None, 3.25]


@F.udf(ArrayType(VectorUDT()))
def vectors(x):
    if x is None:
        return None
    return [Vectors.dense([x]), Vectors.sparse(3, [1], [x])]


def main():
    spark = (SparkSession.builder.master("local[1]").appName("ember-output-kinds")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    schema = StructType([StructField("x", DoubleType(), True)])
    df = spark.createDataFrame([(x,) for x in X], schema)
    x = F.col("x")
    null = F.lit(None)
    out = df.select(
        x,
        # integer: floor, as an int
        F.when(x.isNull(), null).otherwise(F.floor(x).cast("int")).alias("int_out"),
        # long: x * 1000, truncated
        F.when(x.isNull(), null).otherwise((x * 1000).cast("long")).alias("long_out"),
        vectors(x).alias("vectors_out"),
        F.when(x.isNull(), null).otherwise(F.array(x, x * 2)).alias("doubles_out"),
        F.when(x.isNull(), null)
        .otherwise(F.array(F.lit("a"), F.lit(None).cast("string"), x.cast("string")))
        .alias("strings_out"),
    )
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    single_file(out, "json", os.path.join(OUT, "expected.jsonl"))
    single_file(out, "parquet", os.path.join(OUT, "expected.parquet"))
    as_text = out.select(*[F.col(c).cast("string").alias(c) for c in out.columns])
    single_file(as_text, "csv", os.path.join(OUT, "expected.csv"), header="true")
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(f"Written by Spark {spark.version} with scripts/gen_output_kinds.py (see its "
                "docstring); read by tests/contract.rs.\n")
    print(f"Spark {spark.version} -> {OUT}", file=sys.stderr)
    spark.stop()


if __name__ == "__main__":
    main()
