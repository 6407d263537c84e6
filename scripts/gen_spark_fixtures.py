#!/usr/bin/env python3
"""Generate ember's Spark parity fixtures with real Spark.

Every case fits a small pipeline on generated data with PySpark, saves the fitted
PipelineModel exactly as `PipelineModel.save()` writes it, and records Spark's own
`transform()` output. Nothing here is typed by hand: the expected values are whatever
Spark computes.

Usage (Java 17 on PATH):
    python3 -m venv .venv-spark && .venv-spark/bin/pip install pyspark==4.0.1 pyarrow pandas
    .venv-spark/bin/python scripts/gen_spark_fixtures.py            # writes tests/fixtures/spark + examples/
    .venv-spark/bin/python scripts/gen_spark_fixtures.py --only lr_binomial

Per case directory (tests/fixtures/spark/<case>/):
    model/             the saved PipelineModel
    input.parquet      the rows Spark transformed (Spark's own Parquet writer: vectors as VectorUDT)
    input.csv          the same rows through Spark's CSV writer (only when no vector columns)
    input.jsonl        the same rows through Spark's JSON writer
    expected.parquet   Spark's transform() output, in order    (absent for error cases)
    expected.jsonl     the same output through Spark's JSON writer (absent for error cases)
    bundle/            the same stages as an MLeap bundle (scripts/mleap_bundle_writer.py), when
                       MLeap's ops can express them
    case.json          description, Spark version, and for error cases Spark's error message
"""
import argparse
import json
import math
import os
import random
import shutil
import sys
import tempfile

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import (IndexToString, OneHotEncoder, StandardScaler, StringIndexer,
                                VectorAssembler)
from pyspark.ml.linalg import Vectors, VectorUDT
from pyspark.ml.regression import LinearRegression
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

import mleap_bundle_writer
from pyspark.sql.types import (ArrayType, BooleanType, DoubleType, IntegerType, LongType, MapType,
                               StringType, StructField, StructType)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


# ----------------------------------------------------------------------------------------
# helpers


def single_file(df, fmt, dest, **opts):
    """Write `df` as one file (Spark writes a directory of part files; keep the one part)."""
    tmp = tempfile.mkdtemp(prefix="ember-fix-")
    out = os.path.join(tmp, "out")
    w = df.coalesce(1).write.mode("overwrite")
    for k, v in opts.items():
        w = w.option(k, v)
    getattr(w, fmt)(out)
    parts = [p for p in os.listdir(out) if p.startswith("part-")]
    assert len(parts) == 1, parts
    shutil.move(os.path.join(out, parts[0]), dest)
    shutil.rmtree(tmp)


def clean_model_dir(path):
    """Drop Hadoop's .crc side files and _SUCCESS markers: Spark reads the model without them."""
    for dirpath, _, files in os.walk(path):
        for f in files:
            if f.endswith(".crc") or f == "_SUCCESS":
                os.remove(os.path.join(dirpath, f))


def has_vectors(schema):
    return any(isinstance(f.dataType, VectorUDT) for f in schema.fields)


def has_arrays(schema):
    """Spark's CSV writer refuses array columns (e.g. array<string>)."""
    return any(isinstance(f.dataType, ArrayType) for f in schema.fields)


def has_maps(schema):
    """Spark's CSV writer refuses map columns too."""
    return any(isinstance(f.dataType, MapType) for f in schema.fields)


def emit(spark, name, model, test_df, description, out_root, expect_error=False):
    d = os.path.join(out_root, name)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    model.write().overwrite().save(os.path.join(d, "model"))
    clean_model_dir(os.path.join(d, "model"))
    single_file(test_df, "parquet", os.path.join(d, "input.parquet"))
    single_file(test_df, "json", os.path.join(d, "input.jsonl"))
    if not has_vectors(test_df.schema) and not has_arrays(test_df.schema):
        single_file(test_df, "csv", os.path.join(d, "input.csv"), header="true")
    meta = {"description": description, "spark_version": spark.version,
            "rows": test_df.count()}
    if expect_error:
        try:
            model.transform(test_df).collect()
        except Exception as e:  # noqa: BLE001 - we record whatever Spark raises
            # the root cause of the JVM stack trace is the stage's own message
            lines = str(e).strip().splitlines()
            causes = [ln.split("Caused by: ", 1)[1] for ln in lines if "Caused by: " in ln]
            meta["spark_error"] = (causes[-1] if causes else lines[0])[:500]
        else:
            raise SystemExit(f"{name}: expected Spark to fail but it did not")
    else:
        out = model.transform(test_df)
        single_file(out, "parquet", os.path.join(d, "expected.parquet"))
        single_file(out, "json", os.path.join(d, "expected.jsonl"))
        meta["output_columns"] = out.columns
        meta["expected_rows"] = out.count()
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    # the same fitted stages as an MLeap bundle, for the cross-format parity test
    try:
        mleap_bundle_writer.write_bundle(os.path.join(d, "model"), os.path.join(d, "bundle"))
        bundle = "bundle written"
    except mleap_bundle_writer.Unwritable as e:
        bundle = f"no bundle: {e}"
    print(f"  {name}: {meta.get('expected_rows', 'error')} rows, {bundle}", file=sys.stderr)


def df(spark, rows, fields):
    schema = StructType([StructField(n, t, True) for n, t in fields])
    return spark.createDataFrame(rows, schema)


COLORS = ["red", "green", "blue", "yellow", "black", "white"]


def color_rows(rng, n, extra=(), null_rate=0.0):
    # skewed frequencies with deliberate ties so frequency ordering needs the tie-break
    weights = [10, 7, 7, 4, 2, 2]
    out = []
    for i in range(n):
        if rng.random() < null_rate:
            c = None
        elif extra and rng.random() < 0.15:
            c = rng.choice(list(extra))
        else:
            c = rng.choices(COLORS, weights)[0]
        out.append(c)
    return out


# ----------------------------------------------------------------------------------------
# StringIndexer


@case
def si_orders(spark, out, rng):
    """StringIndexer: every stringOrderType; frequency ties; an empty-string label."""
    train = [(i, c) for i, c in enumerate(color_rows(rng, 160))] + [(999, "")]
    test = [(i, c) for i, c in enumerate(color_rows(rng, 40))] + [(1000, "")]
    fields = [("id", IntegerType()), ("color", StringType())]
    stages = [StringIndexer(inputCol="color", outputCol=f"color_{o}", stringOrderType=o)
              for o in ["frequencyDesc", "frequencyAsc", "alphabetDesc", "alphabetAsc"]]
    m = Pipeline(stages=stages).fit(df(spark, train, fields))
    emit(spark, "si_orders", m, df(spark, test, fields),
         "StringIndexer with each stringOrderType on one column", out)


@case
def si_keep(spark, out, rng):
    """StringIndexer handleInvalid=keep: unseen labels and nulls map to numLabels."""
    fields = [("id", IntegerType()), ("color", StringType())]
    train = [(i, c) for i, c in enumerate(color_rows(rng, 120))]
    test = [(i, c) for i, c in enumerate(color_rows(rng, 50, extra=("purple", "Red"), null_rate=0.1))]
    m = Pipeline(stages=[StringIndexer(inputCol="color", outputCol="color_idx",
                                       handleInvalid="keep")]).fit(df(spark, train, fields))
    emit(spark, "si_keep", m, df(spark, test, fields), "StringIndexer keep: unseen and null", out)


@case
def si_skip(spark, out, rng):
    """StringIndexer handleInvalid=skip: rows with unseen labels or nulls are dropped."""
    fields = [("id", IntegerType()), ("color", StringType())]
    train = [(i, c) for i, c in enumerate(color_rows(rng, 120))]
    test = [(i, c) for i, c in enumerate(color_rows(rng, 50, extra=("purple",), null_rate=0.1))]
    m = Pipeline(stages=[StringIndexer(inputCol="color", outputCol="color_idx",
                                       handleInvalid="skip")]).fit(df(spark, train, fields))
    emit(spark, "si_skip", m, df(spark, test, fields), "StringIndexer skip: unseen and null", out)


@case
def si_multi(spark, out, rng):
    """Multi-column StringIndexer (inputCols/outputCols), keep and skip variants."""
    fields = [("id", IntegerType()), ("a", StringType()), ("b", StringType()), ("c", StringType())]

    def rows(n, extra=(), null_rate=0.0):
        a = color_rows(rng, n, extra, null_rate)
        b = [rng.choice(["x", "y", "z"]) if rng.random() > null_rate else None for _ in range(n)]
        c = [rng.choice(["s", "m", "l", "xl"] + list(extra)) for _ in range(n)]
        return [(i, a[i], b[i], c[i]) for i in range(n)]

    train = rows(150)
    for mode in ["keep", "skip"]:
        si = StringIndexer(inputCols=["a", "b", "c"], outputCols=["a_i", "b_i", "c_i"],
                           handleInvalid=mode)
        m = Pipeline(stages=[si]).fit(df(spark, train, fields))
        test = rows(60, extra=("zz",), null_rate=0.08)
        emit(spark, f"si_multi_{mode}", m, df(spark, test, fields),
             f"StringIndexer on three columns, handleInvalid={mode}", out)


@case
def si_numeric(spark, out, rng):
    """StringIndexer on numeric columns: Spark casts them to strings (1.0 -> "1.0")."""
    fields = [("id", IntegerType()), ("d", DoubleType()), ("n", IntegerType()), ("l", LongType())]
    dvals = [1.0, 2.5, -3.0, 1e7, 1.5e-4, 0.001, 123456.789, 0.0, 1e21, 100.0]

    def rows(n):
        return [(i, rng.choice(dvals), rng.randint(-3, 5), rng.choice([10, 2**40, -7]))
                for i in range(n)]

    si = StringIndexer(inputCols=["d", "n", "l"], outputCols=["d_i", "n_i", "l_i"],
                       handleInvalid="keep")
    m = Pipeline(stages=[si]).fit(df(spark, rows(200), fields))
    test = rows(40) + [(40, 77.0, 99, 5), (41, None, None, None)]
    emit(spark, "si_numeric", m, df(spark, test, fields),
         "StringIndexer on double/int/long columns (cast to string), keep", out)


@case
def si_errors(spark, out, rng):
    """StringIndexer handleInvalid=error on an unseen label, and on a null."""
    fields = [("id", IntegerType()), ("color", StringType())]
    train = [(i, c) for i, c in enumerate(color_rows(rng, 80))]
    m = Pipeline(stages=[StringIndexer(inputCol="color", outputCol="color_idx")]).fit(
        df(spark, train, fields))
    emit(spark, "si_error_unseen", m, df(spark, [(0, "red"), (1, "purple")], fields),
         "StringIndexer error mode, unseen label", out, expect_error=True)
    emit(spark, "si_error_null", m, df(spark, [(0, "red"), (1, None)], fields),
         "StringIndexer error mode, null input", out, expect_error=True)


# ----------------------------------------------------------------------------------------
# OneHotEncoder


@case
def ohe_variants(spark, out, rng):
    """OneHotEncoder: dropLast x handleInvalid, multi-column, invalid values in keep mode."""
    fields = [("id", IntegerType()), ("x", DoubleType()), ("y", DoubleType())]
    train = [(i, float(rng.randint(0, 3)), float(rng.randint(0, 4))) for i in range(100)]
    stages = []
    for dl in [True, False]:
        for hi in ["error", "keep"]:
            tag = f"{'dl' if dl else 'nodl'}_{hi}"
            stages.append(OneHotEncoder(inputCols=["x", "y"], outputCols=[f"x_{tag}", f"y_{tag}"],
                                        dropLast=dl, handleInvalid=hi))
    # fit the keep variants on the same data; error variants only see valid values
    fit_keep = Pipeline(stages=[s for s in stages if s.getHandleInvalid() == "keep"]).fit(
        df(spark, train, fields))
    valid = [(i, float(rng.randint(0, 3)), float(rng.randint(0, 4))) for i in range(30)]
    invalid = [(100, 4.0, 0.0), (101, 7.0, 5.0), (102, -1.0, 1.0), (103, 1.5, 2.9),
               (104, float("nan"), 0.0), (105, None, 1.0), (106, 0.0, None), (107, 3.0, 4.0)]
    emit(spark, "ohe_keep", fit_keep, df(spark, valid + invalid, fields),
         "OneHotEncoder keep, dropLast true/false, invalid/NaN/null/fractional inputs", out)
    fit_err = Pipeline(stages=[s for s in stages if s.getHandleInvalid() == "error"]).fit(
        df(spark, train, fields))
    fractional = [(200, 1.5, 2.9), (201, 0.99, 0.0), (202, None, 3.0)]
    emit(spark, "ohe_error", fit_err, df(spark, valid + fractional, fields),
         "OneHotEncoder error mode, dropLast true/false, valid, fractional and null inputs", out)
    emit(spark, "ohe_error_unseen", fit_err, df(spark, [(0, 1.0, 1.0), (1, 9.0, 1.0)], fields),
         "OneHotEncoder error mode, unseen category", out, expect_error=True)
    emit(spark, "ohe_error_negative", fit_err, df(spark, [(0, 1.0, -2.0)], fields),
         "OneHotEncoder error mode, negative category", out, expect_error=True)


# ----------------------------------------------------------------------------------------
# VectorAssembler


@case
def va_types(spark, out, rng):
    """VectorAssembler over double, int, long, boolean and vector (dense and sparse) inputs."""
    fields = [("id", IntegerType()), ("d", DoubleType()), ("i", IntegerType()), ("l", LongType()),
              ("b", BooleanType()), ("v", VectorUDT())]

    def vec():
        if rng.random() < 0.5:
            return Vectors.dense([rng.choice([0.0, rng.gauss(0, 1)]) for _ in range(3)])
        idx = sorted(rng.sample(range(3), rng.randint(0, 2)))
        return Vectors.sparse(3, idx, [rng.gauss(0, 2) for _ in idx])

    rows = [(k, rng.choice([0.0, rng.gauss(5, 3)]), rng.choice([0, rng.randint(-9, 9)]),
             rng.choice([0, 2**35]), rng.random() < 0.5, vec()) for k in range(40)]
    va = VectorAssembler(inputCols=["d", "i", "l", "b", "v"], outputCol="features")
    m = Pipeline(stages=[va]).fit(df(spark, rows, fields))
    emit(spark, "va_types", m, df(spark, rows, fields),
         "VectorAssembler on numeric, boolean and vector columns; dense/sparse output choice", out)


@case
def va_invalid(spark, out, rng):
    """VectorAssembler keep/skip/error with NaN and nulls (vector sizes known from OHE)."""
    fields = [("id", IntegerType()), ("d", DoubleType()), ("i", IntegerType()), ("cat", DoubleType())]

    def rows(n):
        out_ = []
        for k in range(n):
            d = rng.choice([rng.gauss(0, 1), 0.0, float("nan"), None]) if k % 3 == 0 else rng.gauss(0, 1)
            i = rng.choice([None, rng.randint(0, 5)]) if k % 4 == 0 else rng.randint(0, 5)
            c = None if k % 7 == 3 else float(rng.randint(0, 2))
            out_.append((k, d, i, c))
        return out_

    train = [(k, rng.gauss(0, 1), rng.randint(0, 5), float(rng.randint(0, 2))) for k in range(50)]
    test = rows(45)
    for mode in ["keep", "skip"]:
        stages = [OneHotEncoder(inputCol="cat", outputCol="cat_vec", dropLast=False),
                  VectorAssembler(inputCols=["d", "i", "cat_vec"], outputCol="features",
                                  handleInvalid=mode)]
        m = Pipeline(stages=stages).fit(df(spark, train, fields))
        emit(spark, f"va_{mode}", m, df(spark, test, fields),
             f"VectorAssembler handleInvalid={mode} with NaN, null scalars and null vectors", out)
    m = Pipeline(stages=[VectorAssembler(inputCols=["d", "i"], outputCol="features")]).fit(
        df(spark, train, fields))
    emit(spark, "va_error_nan", m, df(spark, [(0, 1.0, 1, 0.0), (1, float("nan"), 2, 0.0)], fields),
         "VectorAssembler error mode, NaN", out, expect_error=True)
    emit(spark, "va_error_null", m, df(spark, [(0, 1.0, 1, 0.0), (1, 2.0, None, 0.0)], fields),
         "VectorAssembler error mode, null", out, expect_error=True)


# ----------------------------------------------------------------------------------------
# IndexToString


@case
def index_to_string(spark, out, rng):
    """IndexToString with an explicit labels param and with labels from StringIndexer metadata."""
    fields = [("id", IntegerType()), ("color", StringType()), ("k", DoubleType())]
    train = [(i, c, 0.0) for i, c in enumerate(color_rows(rng, 100))]
    si = StringIndexer(inputCol="color", outputCol="color_idx")
    back = IndexToString(inputCol="color_idx", outputCol="color_back")
    explicit = IndexToString(inputCol="k", outputCol="k_label", labels=["zero", "one", "two", "three"])
    m = Pipeline(stages=[si, back, explicit]).fit(df(spark, train, fields))
    ks = [0.0, 1.0, 2.0, 3.0, 1.7, 2.2, -0.5, float("nan"), None, 3.999]
    test = [(i, rng.choice(COLORS), ks[i % len(ks)]) for i in range(30)]
    emit(spark, "its_labels", m, df(spark, test, fields),
         "IndexToString from metadata and from labels; fractional, negative-fraction, NaN, null", out)
    emit(spark, "its_error_unseen", m, df(spark, [(0, "red", 1.0), (1, "red", 4.0)], fields),
         "IndexToString index out of range", out, expect_error=True)


# ----------------------------------------------------------------------------------------
# StandardScaler


@case
def standard_scaler(spark, out, rng):
    """StandardScaler withMean/withStd combinations on dense and sparse vectors, a constant feature."""
    fields = [("id", IntegerType()), ("a", DoubleType()), ("b", DoubleType()), ("c", DoubleType()),
              ("cat", DoubleType())]

    def rows(n):
        return [(k, rng.gauss(10, 4), rng.choice([0.0, rng.gauss(-2, 0.5)]), 3.0,
                 float(rng.randint(0, 4))) for k in range(n)]

    stages = [VectorAssembler(inputCols=["a", "b", "c"], outputCol="dense"),
              OneHotEncoder(inputCol="cat", outputCol="sparse")]
    for wm in [False, True]:
        for ws in [False, True]:
            tag = f"m{int(wm)}s{int(ws)}"
            stages.append(StandardScaler(inputCol="dense", outputCol=f"dense_{tag}",
                                         withMean=wm, withStd=ws))
            stages.append(StandardScaler(inputCol="sparse", outputCol=f"sparse_{tag}",
                                         withMean=wm, withStd=ws))
    m = Pipeline(stages=stages).fit(df(spark, rows(120), fields))
    emit(spark, "standard_scaler", m, df(spark, rows(30), fields),
         "StandardScaler: 4 withMean/withStd combinations x dense/sparse input; std 0 feature", out)


# ----------------------------------------------------------------------------------------
# LogisticRegression


def lr_rows(rng, n, classes, extreme=False):
    """Rows with a noisy linear label; `extreme` appends rows with very large margins, where
    probabilities approach 0 and 1 and the exact formulas matter."""
    rows = []
    for k in range(n):
        x1, x2, x3 = rng.gauss(0, 1), rng.gauss(0, 2), rng.choice([0.0, 1.0])
        score = [0.8 * x1 - 0.5 * x2 + x3, -0.3 * x1 + 0.9 * x2, 0.2 * x1 + 0.1 * x2 - x3,
                 0.5 - x1][:classes]
        score = [s + rng.gauss(0, 0.7) for s in score]
        label = float(max(range(classes), key=lambda c: score[c]))
        rows.append((k, x1, x2, x3, label))
    if extreme:
        for j, (x1, x2) in enumerate([(40.0, -60.0), (-40.0, 60.0), (25.0, 0.0), (0.0, -35.0),
                                      (300.0, -500.0), (-3.0e3, 2.0e3)]):
            rows.append((n + j, x1, x2, float(j % 2), 0.0))
    return rows


LR_FIELDS = [("id", IntegerType()), ("x1", DoubleType()), ("x2", DoubleType()), ("x3", DoubleType()),
             ("label", DoubleType())]


def fit_lr(features_df, **params):
    """A separately fitted LogisticRegressionModel (own uid) on already-assembled features."""
    return LogisticRegression(**params).fit(features_df)


@case
def lr_binomial(spark, out, rng):
    """Binomial LR: default columns, threshold, thresholds, renamed and empty output columns."""
    va = VectorAssembler(inputCols=["x1", "x2", "x3"], outputCol="features")
    feats = va.transform(df(spark, lr_rows(rng, 300, 2), LR_FIELDS))
    fit = lambda: fit_lr(feats, maxIter=50, regParam=0.01)  # noqa: E731
    variants = [
        fit(),
        fit().setThreshold(0.3).setRawPredictionCol("raw2").setProbabilityCol("prob2")
        .setPredictionCol("pred2"),
        fit().setThresholds([0.4, 0.6]).setRawPredictionCol("").setProbabilityCol("prob3")
        .setPredictionCol("pred3"),
        fit().setThreshold(0.7).setRawPredictionCol("raw4").setProbabilityCol("")
        .setPredictionCol("pred4"),
        fit().setThreshold(0.2).setRawPredictionCol("").setProbabilityCol("")
        .setPredictionCol("pred5"),
        fit().setThreshold(0.0).setRawPredictionCol("").setProbabilityCol("prob6")
        .setPredictionCol("pred6"),
        fit().setThreshold(1.0).setRawPredictionCol("raw7").setProbabilityCol("prob7")
        .setPredictionCol("pred7"),
        fit().setRawPredictionCol("raw8").setProbabilityCol("prob8").setPredictionCol(""),
    ]
    m = PipelineModel(stages=[va] + variants)
    emit(spark, "lr_binomial", m, df(spark, lr_rows(rng, 40, 2, extreme=True), LR_FIELDS),
         "Binomial LogisticRegression with threshold/thresholds and renamed/empty output columns", out)


@case
def lr_multinomial(spark, out, rng):
    """Multinomial LR (3 and 4 classes), thresholds, empty columns, family=multinomial on 2 classes."""
    va = VectorAssembler(inputCols=["x1", "x2", "x3"], outputCol="features")
    feats3 = va.transform(df(spark, lr_rows(rng, 400, 3), LR_FIELDS))
    fit = lambda: fit_lr(feats3, maxIter=60, regParam=0.02)  # noqa: E731
    variants = [
        fit(),
        fit().setThresholds([0.5, 0.2, 0.9]).setRawPredictionCol("raw2")
        .setProbabilityCol("prob2").setPredictionCol("pred2"),
        fit().setThresholds([0.3, 0.3, 0.3]).setRawPredictionCol("")
        .setProbabilityCol("prob3").setPredictionCol("pred3"),
        fit().setRawPredictionCol("").setProbabilityCol("").setPredictionCol("pred4"),
        fit().setThresholds([0.6, 0.0, 0.5]).setRawPredictionCol("raw5")
        .setProbabilityCol("").setPredictionCol("pred5"),
    ]
    m = PipelineModel(stages=[va] + variants)
    emit(spark, "lr_multinomial", m, df(spark, lr_rows(rng, 40, 3, extreme=True), LR_FIELDS),
         "Multinomial LogisticRegression (3 classes) with thresholds and empty columns", out)

    feats2 = va.transform(df(spark, lr_rows(rng, 300, 2), LR_FIELDS))
    m2 = PipelineModel(stages=[va, fit_lr(feats2, family="multinomial", maxIter=50,
                                          fitIntercept=False)])
    emit(spark, "lr_multinomial_binary", m2, df(spark, lr_rows(rng, 30, 2, extreme=True), LR_FIELDS),
         "family=multinomial on a binary label (softmax over two classes), no intercept", out)

    feats4 = va.transform(df(spark, lr_rows(rng, 500, 4), LR_FIELDS))
    m4 = PipelineModel(stages=[va, fit_lr(feats4, maxIter=80, elasticNetParam=0.5, regParam=0.05)])
    emit(spark, "lr_multinomial_sparse_coef", m4, df(spark, lr_rows(rng, 30, 4), LR_FIELDS),
         "Multinomial LR, 4 classes, elastic net (zeros in the coefficient matrix)", out)


@case
def linear_regression(spark, out, rng):
    """LinearRegression with and without intercept, renamed prediction column."""
    fields = [("id", IntegerType()), ("x1", DoubleType()), ("x2", DoubleType()), ("y", DoubleType())]

    def rows(n):
        r = []
        for k in range(n):
            x1, x2 = rng.gauss(0, 3), rng.gauss(1, 1)
            r.append((k, x1, x2, 2.5 * x1 - 1.25 * x2 + 4.0 + rng.gauss(0, 0.3)))
        return r

    va = VectorAssembler(inputCols=["x1", "x2"], outputCol="features")
    a = Pipeline(stages=[va, LinearRegression(labelCol="y")]).fit(df(spark, rows(200), fields))
    b = Pipeline(stages=[LinearRegression(labelCol="y", fitIntercept=False, regParam=0.1,
                                          elasticNetParam=0.3, predictionCol="pred_noint")]).fit(
        a.transform(df(spark, rows(200), fields)).drop("prediction"))
    m = PipelineModel(stages=[a.stages[0], a.stages[1], b.stages[0]])
    emit(spark, "linear_regression", m, df(spark, rows(30), fields),
         "LinearRegression with intercept, and without intercept (elastic net) into pred_noint", out)


# ----------------------------------------------------------------------------------------
# Tree models (DecisionTree, RandomForest, GBT; classification and regression)

TREE_COLORS = ["red", "green", "blue", "yellow"]
TREE_SIZES = ["s", "m", "l"]
TREE_FIELDS = ([("id", IntegerType()), ("color", StringType()), ("size", StringType())]
               + [(f"x{k}", DoubleType()) for k in range(1, 4)]
               + [(f"z{k}", DoubleType()) for k in range(1, 5)]
               + [("label", DoubleType()), ("label2", DoubleType()), ("y", DoubleType())])


def tree_rows(rng, n):
    """Continuous features (often zero, so VectorAssembler emits sparse rows), two string
    features that StringIndexer makes categorical, a 3-class label, a binary label and a
    regression target."""
    rows = []
    for k in range(n):
        color = rng.choices(TREE_COLORS, [5, 3, 3, 2])[0]
        size = rng.choice(TREE_SIZES)
        x1 = 0.0 if rng.random() < 0.3 else rng.gauss(0, 1)
        x2 = 0.0 if rng.random() < 0.3 else rng.gauss(1, 2)
        x3 = rng.random()
        z = [0.0 if rng.random() < 0.8 else rng.gauss(0, 3) for _ in range(4)]
        scores = [x1 + (1.5 if color == "red" else 0.0),
                  0.5 * x2 - (1.0 if size == "l" else 0.0),
                  2.0 * x3 + 0.3 * z[0] - (0.8 if color == "blue" else 0.0)]
        scores = [s + rng.gauss(0, 0.4) for s in scores]
        label = float(max(range(3), key=lambda c: scores[c]))
        label2 = 1.0 if x1 + x2 * (size == "s") - (color == "green") + rng.gauss(0, 0.5) > 0.3 else 0.0
        y = (3.0 * x1 - 2.0 * (color in ("blue", "green")) + x2 * x3 + 0.5 * z[1]
             + (1.5 if size == "m" else 0.0) + rng.gauss(0, 0.3))
        rows.append((k, color, size, x1, x2, x3, *z, label, label2, y))
    return rows


def tree_features():
    """StringIndexer (nominal metadata) -> VectorAssembler: trees see color_i and size_i as
    categorical features with 4 and 3 categories."""
    si = StringIndexer(inputCols=["color", "size"], outputCols=["color_i", "size_i"])
    va = VectorAssembler(inputCols=["color_i", "size_i", "x1", "x2", "x3", "z1", "z2", "z3", "z4"],
                         outputCol="features")
    return si, va


@case
def tree_classifiers(spark, out, rng):
    """Decision tree and random forest classifiers, 3 classes, categorical + continuous
    features, thresholds, renamed and empty output columns; dense and sparse rows."""
    from pyspark.ml.classification import DecisionTreeClassifier, RandomForestClassifier
    si, va = tree_features()
    train_df = df(spark, tree_rows(rng, 600), TREE_FIELDS)
    si_m = si.fit(train_df)
    feats = va.transform(si_m.transform(train_df))
    dt = lambda **kw: DecisionTreeClassifier(maxDepth=5, seed=7, **kw).fit(feats)  # noqa: E731
    rf = lambda **kw: RandomForestClassifier(**{"numTrees": 6, "maxDepth": 4, "seed": 11, **kw}).fit(feats)  # noqa: E731
    variants = [
        dt(),
        dt(impurity="entropy", minInstancesPerNode=5).setRawPredictionCol("dt_raw2")
        .setProbabilityCol("").setPredictionCol("dt_pred2"),
        dt().setRawPredictionCol("").setProbabilityCol("").setPredictionCol("dt_pred3"),
        dt().setThresholds([0.5, 0.2, 0.9]).setRawPredictionCol("")
        .setProbabilityCol("dt_prob4").setPredictionCol("dt_pred4"),
        rf().setRawPredictionCol("rf_raw").setProbabilityCol("rf_prob").setPredictionCol("rf_pred"),
        rf(featureSubsetStrategy="all", subsamplingRate=0.7).setThresholds([0.3, 0.6, 0.4])
        .setRawPredictionCol("rf_raw2").setProbabilityCol("rf_prob2").setPredictionCol("rf_pred2"),
        rf(numTrees=5, maxDepth=3).setRawPredictionCol("").setProbabilityCol("").setPredictionCol("rf_pred3"),
    ]
    m = PipelineModel(stages=[si_m, va] + variants)
    emit(spark, "tree_classifiers", m, df(spark, tree_rows(rng, 60), TREE_FIELDS),
         "DecisionTree/RandomForest classifiers (3 classes), categorical features from "
         "StringIndexer metadata, thresholds, empty output columns, sparse rows", out)


@case
def tree_regressors(spark, out, rng):
    """Decision tree, random forest and GBT regression on categorical + continuous features."""
    from pyspark.ml.regression import (DecisionTreeRegressor, GBTRegressor,
                                       RandomForestRegressor)
    si, va = tree_features()
    train_df = df(spark, tree_rows(rng, 600), TREE_FIELDS)
    si_m = si.fit(train_df)
    feats = va.transform(si_m.transform(train_df))
    variants = [
        DecisionTreeRegressor(labelCol="y", maxDepth=5).fit(feats),
        RandomForestRegressor(labelCol="y", numTrees=8, maxDepth=4, seed=3,
                              predictionCol="rf_pred").fit(feats),
        GBTRegressor(labelCol="y", maxIter=10, maxDepth=3, seed=5, predictionCol="gbt_pred").fit(feats),
        GBTRegressor(labelCol="y", maxIter=6, maxDepth=3, lossType="absolute", stepSize=0.3,
                     seed=5, predictionCol="gbt_abs_pred").fit(feats),
    ]
    m = PipelineModel(stages=[si_m, va] + variants)
    emit(spark, "tree_regressors", m, df(spark, tree_rows(rng, 60), TREE_FIELDS),
         "DecisionTree/RandomForest/GBT regression (squared and absolute loss), categorical "
         "features from StringIndexer metadata, sparse rows", out)


@case
def tree_gbt_binary(spark, out, rng):
    """Binary GBT classifier (and a binary decision tree): thresholds, every output-column
    combination (so every prediction path: raw, probability, predict with and without thresholds)."""
    from pyspark.ml.classification import DecisionTreeClassifier, GBTClassifier
    si, va = tree_features()
    train_df = df(spark, tree_rows(rng, 600), TREE_FIELDS)
    si_m = si.fit(train_df)
    feats = va.transform(si_m.transform(train_df))
    gbt = lambda **kw: GBTClassifier(**{"labelCol": "label2", "maxIter": 6, "maxDepth": 3, "seed": 9, **kw}).fit(feats)  # noqa: E731
    variants = [
        gbt(),
        gbt(stepSize=0.5).setThresholds([0.7, 0.3]).setRawPredictionCol("gbt_raw2")
        .setProbabilityCol("gbt_prob2").setPredictionCol("gbt_pred2"),
        gbt().setRawPredictionCol("").setProbabilityCol("gbt_prob3").setPredictionCol("gbt_pred3"),
        gbt().setRawPredictionCol("").setProbabilityCol("").setPredictionCol("gbt_pred4"),
        gbt().setThresholds([0.4, 0.6]).setRawPredictionCol("").setProbabilityCol("")
        .setPredictionCol("gbt_pred5"),
        DecisionTreeClassifier(labelCol="label2", maxDepth=4).fit(feats)
        .setRawPredictionCol("dt_raw").setProbabilityCol("dt_prob").setPredictionCol("dt_pred"),
    ]
    m = PipelineModel(stages=[si_m, va] + variants)
    emit(spark, "tree_gbt_binary", m, df(spark, tree_rows(rng, 60), TREE_FIELDS),
         "Binary GBT classifier with thresholds and every output-column combination; binary "
         "decision tree", out)


@case
def tree_vectors(spark, out, rng):
    """Tree models on a vector column given directly: categorical features declared by
    ml_attr metadata (no VectorIndexer), dense and sparse rows, NaN, and categorical values
    outside [0, numCategories) or fractional, which Spark routes by its split's isLeft."""
    from pyspark.ml.classification import DecisionTreeClassifier, GBTClassifier
    from pyspark.ml.regression import RandomForestRegressor
    size = 6
    attrs = {"ml_attr": {"num_attrs": size, "attrs": {
        "nominal": [{"idx": 0, "name": "c0", "num_vals": 3},
                    {"idx": 1, "name": "c1", "num_vals": 6}],
        "numeric": [{"idx": i, "name": f"n{i}"} for i in range(2, size)]}}}
    fields = [("id", IntegerType()), ("features", VectorUDT()), ("label", DoubleType()),
              ("label2", DoubleType()), ("y", DoubleType())]

    def rows(n, odd=False):
        r = []
        for k in range(n):
            c0, c1 = float(rng.randint(0, 2)), float(rng.randint(0, 5))
            xs = [0.0 if rng.random() < 0.5 else rng.gauss(0, 1) for _ in range(size - 2)]
            if odd and k % 4 == 0:
                c0 = rng.choice([3.0, 7.0, -1.0, 1.5, float("nan")])
            if odd and k % 4 == 1:
                c1 = rng.choice([6.0, 9.0, 2.5, -0.0, float("nan")])
            if odd and k % 5 == 2:
                xs[rng.randint(0, size - 3)] = float("nan")
            full = [c0, c1] + xs
            v = (Vectors.dense(full) if k % 2 == 0 else
                 Vectors.sparse(size, [i for i, x in enumerate(full) if x != 0.0],
                                [x for x in full if x != 0.0]))
            score = [c0 == 1.0, c1 in (2.0, 4.0, 5.0), xs[0] > 0.3]
            label = float(score.index(True)) if any(score) else 0.0
            label2 = 1.0 if (c1 in (1.0, 3.0)) != (xs[1] > 0) else 0.0
            y = 2.0 * c0 - c1 * 0.5 + xs[0] * 3.0 + rng.gauss(0, 0.2)
            r.append((k, v, label, label2, y))
        return r

    train = df(spark, rows(500), fields).withMetadata("features", attrs)
    variants = [
        DecisionTreeClassifier(maxDepth=5, predictionCol="dt_pred", rawPredictionCol="dt_raw",
                               probabilityCol="dt_prob").fit(train),
        RandomForestRegressor(labelCol="y", numTrees=8, maxDepth=4, seed=2,
                              predictionCol="rf_pred").fit(train),
        GBTClassifier(labelCol="label2", maxIter=10, maxDepth=3, seed=4).fit(train)
        .setPredictionCol("gbt_pred").setRawPredictionCol("gbt_raw").setProbabilityCol("gbt_prob"),
    ]
    m = PipelineModel(stages=variants)
    emit(spark, "tree_vectors", m, df(spark, rows(60, odd=True), fields),
         "Tree models on a vector input (categorical by ml_attr metadata): dense/sparse rows, "
         "NaN, out-of-range and fractional categorical values", out)


# ----------------------------------------------------------------------------------------
# whole pipelines


CAR_COLS = ["buying", "maint", "doors", "persons", "lug_boot", "safety"]
CAR_VALUES = {
    "buying": ["vhigh", "high", "med", "low"],
    "maint": ["vhigh", "high", "med", "low"],
    "doors": ["2", "3", "4", "5more"],
    "persons": ["2", "4", "more"],
    "lug_boot": ["small", "med", "big"],
    "safety": ["low", "med", "high"],
}


def car_rows(rng, n):
    """Rows in the shape of the UCI car-evaluation data set (labels from a noisy rule)."""
    rows = []
    for _ in range(n):
        r = {c: rng.choice(v) for c, v in CAR_VALUES.items()}
        s = (["vhigh", "high", "med", "low"].index(r["buying"])
             + ["vhigh", "high", "med", "low"].index(r["maint"])
             + ["low", "med", "high"].index(r["safety"]) * 2
             + (0 if r["persons"] == "2" else 2)
             + ["small", "med", "big"].index(r["lug_boot"]) * 0.5
             + rng.gauss(0, 1.2))
        if r["persons"] == "2" or r["safety"] == "low":
            s -= 4
        label = "unacc" if s < 5 else "acc" if s < 7.5 else "good" if s < 9 else "vgood"
        rows.append(tuple(r[c] for c in CAR_COLS) + (label,))
    return rows


@case
def car_evaluation(spark, out, rng):
    """The SageMaker car-evaluation shape: 6 StringIndexers -> OHE -> VA -> multinomial LR -> IndexToString."""
    fields = [(c, StringType()) for c in CAR_COLS] + [("class", StringType())]
    train = df(spark, car_rows(rng, 1500), fields)
    label = StringIndexer(inputCol="class", outputCol="label").fit(train)
    stages = [StringIndexer(inputCol=c, outputCol=f"{c}_index") for c in CAR_COLS]
    stages.append(OneHotEncoder(inputCols=[f"{c}_index" for c in CAR_COLS],
                                outputCols=[f"{c}_vec" for c in CAR_COLS]))
    stages.append(VectorAssembler(inputCols=[f"{c}_vec" for c in CAR_COLS], outputCol="features"))
    stages.append(LogisticRegression(labelCol="label", maxIter=100, regParam=0.001))
    stages.append(IndexToString(inputCol="prediction", outputCol="predicted_class",
                                labels=label.labels))
    m = Pipeline(stages=stages).fit(label.transform(train))
    test_fields = [(c, StringType()) for c in CAR_COLS]
    test = df(spark, [r[:-1] for r in car_rows(rng, 200)], test_fields)
    emit(spark, "car_evaluation", m, test,
         "SageMaker car-evaluation pipeline: 6x StringIndexer, OneHotEncoder, VectorAssembler, "
         "multinomial LogisticRegression (4 classes), IndexToString", out)
    return m


@case
def nested_pipeline(spark, out, rng):
    """A PipelineModel inside a PipelineModel, as Pipeline(stages=[Pipeline(...), ...]) saves it."""
    fields = [("id", IntegerType()), ("color", StringType()), ("x", DoubleType()), ("label", DoubleType())]

    def rows(n):
        r = []
        for k in range(n):
            c = rng.choice(COLORS)
            x = rng.gauss(0, 1)
            r.append((k, c, x, 1.0 if (COLORS.index(c) % 2 == 0) ^ (x > 0.5) else 0.0))
        return r

    inner = Pipeline(stages=[StringIndexer(inputCol="color", outputCol="ci"),
                             OneHotEncoder(inputCol="ci", outputCol="cv")])
    outer = Pipeline(stages=[inner, VectorAssembler(inputCols=["cv", "x"], outputCol="features"),
                             StandardScaler(inputCol="features", outputCol="scaled", withMean=True),
                             LogisticRegression(featuresCol="scaled", maxIter=40)])
    m = outer.fit(df(spark, rows(200), fields))
    emit(spark, "nested_pipeline", m, df(spark, rows(30), fields),
         "Nested PipelineModel: [[StringIndexer, OneHotEncoder], VectorAssembler, StandardScaler, LR]",
         out)


# ----------------------------------------------------------------------------------------
# numeric feature stages (MinMaxScaler, MaxAbsScaler, Normalizer, Binarizer, Bucketizer, IDF,
# NaiveBayes)


def numeric_vec(rng, size=4, nan=False):
    """A dense or sparse vector; some entries zero, optionally a NaN."""
    vals = [rng.choice([0.0, round(rng.gauss(2, 3), 3), float(rng.randint(-5, 9))])
            for _ in range(size)]
    if nan and rng.random() < 0.3:
        vals[rng.randrange(size)] = float("nan")
    if rng.random() < 0.5:
        return Vectors.dense(vals)
    idx = [i for i, v in enumerate(vals) if v != 0.0]
    return Vectors.sparse(size, idx, [vals[i] for i in idx])


VEC_FIELDS = [("id", IntegerType()), ("v", VectorUDT())]


def vec_rows(rng, n, size=4, nan=False, const=None):
    rows = []
    for k in range(n):
        v = numeric_vec(rng, size, nan)
        if const is not None:
            a = v.toArray()
            a[const[0]] = const[1]
            nz = [i for i, x in enumerate(a) if x != 0.0]
            v = (Vectors.dense(a) if rng.random() < 0.5
                 else Vectors.sparse(len(a), nz, [a[i] for i in nz]))
        rows.append((k, v))
    return rows


@case
def min_max_scaler(spark, out, rng):
    """MinMaxScaler: default and custom min/max, constant feature, dense/sparse input, NaN."""
    from pyspark.ml.feature import MinMaxScaler
    train = df(spark, vec_rows(rng, 80, const=(2, 3.0)), VEC_FIELDS)
    stages = [MinMaxScaler(inputCol="v", outputCol="mm"),
              MinMaxScaler(inputCol="v", outputCol="mm_custom", min=-2.0, max=3.5),
              MinMaxScaler(inputCol="v", outputCol="mm_narrow", min=0.25, max=0.5)]
    m = Pipeline(stages=stages).fit(train)
    test = vec_rows(rng, 30, nan=True) + [
        (100, Vectors.sparse(4, [], [])), (101, Vectors.dense([0.0, 0.0, 0.0, 0.0])),
        (102, Vectors.sparse(4, [1], [float("nan")])), (103, Vectors.dense([1e9, -1e9, 3.0, 0.5]))]
    emit(spark, "min_max_scaler", m, df(spark, test, VEC_FIELDS),
         "MinMaxScaler with default/custom min and max; constant feature; dense, sparse, NaN", out)
    emit(spark, "min_max_scaler_error_size", m,
         df(spark, [(0, Vectors.dense([1.0, 2.0, 3.0, 4.0])), (1, Vectors.dense([1.0, 2.0]))],
            VEC_FIELDS),
         "MinMaxScaler on a vector of the wrong size", out, expect_error=True)


@case
def max_abs_scaler(spark, out, rng):
    """MaxAbsScaler: dense/sparse input, an all-zero feature (scale 1), NaN."""
    from pyspark.ml.feature import MaxAbsScaler
    train = df(spark, vec_rows(rng, 80, const=(3, 0.0)), VEC_FIELDS)
    m = Pipeline(stages=[MaxAbsScaler(inputCol="v", outputCol="scaled")]).fit(train)
    test = vec_rows(rng, 30, nan=True) + [
        (100, Vectors.sparse(4, [], [])), (101, Vectors.sparse(4, [0, 3], [0.0, 7.0])),
        (102, Vectors.dense([float("nan"), -4.0, 1e300, 5.0]))]
    emit(spark, "max_abs_scaler", m, df(spark, test, VEC_FIELDS),
         "MaxAbsScaler on dense and sparse vectors with NaN and an all-zero training feature", out)


@case
def normalizer(spark, out, rng):
    """Normalizer with p = 1, 2, 3, 1.5 and infinity on dense/sparse, zero and NaN vectors."""
    from pyspark.ml.feature import Normalizer
    stages = [Normalizer(inputCol="v", outputCol="n2"),
              Normalizer(inputCol="v", outputCol="n1", p=1.0),
              Normalizer(inputCol="v", outputCol="n3", p=3.0),
              Normalizer(inputCol="v", outputCol="n15", p=1.5),
              Normalizer(inputCol="v", outputCol="ninf", p=float("inf"))]
    test = vec_rows(rng, 30, nan=True) + [
        (100, Vectors.sparse(4, [], [])), (101, Vectors.dense([0.0, 0.0, 0.0, 0.0])),
        (102, Vectors.sparse(4, [1, 2], [0.0, -3.0])),
        (103, Vectors.dense([float("nan"), 1.0, -2.0, 0.5])),
        (104, Vectors.dense([1e200, 1e200, -1e200, 0.0]))]
    test_df = df(spark, test, VEC_FIELDS)
    m = Pipeline(stages=stages).fit(test_df)
    emit(spark, "normalizer", m, test_df,
         "Normalizer p = 2 (default), 1, 3, 1.5, inf; zero, NaN and huge vectors", out)


BIN_FIELDS = [("id", IntegerType()), ("x", DoubleType()), ("y", DoubleType()), ("v", VectorUDT())]


@case
def binarizer(spark, out, rng):
    """Binarizer on doubles (NaN, -0.0) and vectors (threshold >= 0 and < 0), multi-column;
    null doubles separately (Spark 4 gives 0.0, Spark 3 null)."""
    from pyspark.ml.feature import Binarizer
    stages = [Binarizer(inputCol="x", outputCol="xb", threshold=0.5),
              Binarizer(inputCol="v", outputCol="vb", threshold=1.0),
              Binarizer(inputCol="v", outputCol="vb_neg", threshold=-1.5),
              Binarizer(inputCol="v", outputCol="vb0"),
              Binarizer(inputCols=["x", "y"], outputCols=["xm", "ym"], thresholds=[0.0, 2.0]),
              Binarizer(inputCols=["y", "v"], outputCols=["ys", "vs"], threshold=-0.25)]
    rows = []
    for k in range(30):
        x = rng.choice([float("nan"), 0.5, 0.0, -0.0, rng.gauss(0.5, 1)])
        y = rng.choice([2.0, rng.gauss(1, 2), float("nan")])
        rows.append((k, x, y, numeric_vec(rng, 6, nan=True)))
    rows.append((100, 1.0, 3.0, Vectors.sparse(6, [], [])))
    rows.append((101, 1.0, 3.0, Vectors.dense([-2.0, -1.5, -1.0, 0.0, 1.0, 1.5])))
    test_df = df(spark, rows, BIN_FIELDS)
    m = Pipeline(stages=stages).fit(test_df)
    emit(spark, "binarizer", m, test_df,
         "Binarizer: double input with NaN/-0.0, vector input with threshold >= 0, < 0 and "
         "the default 0, multi-column with thresholds and with one threshold", out)
    nulls = [(0, 0.25, 5.0)] + [
        (k, rng.choice([None, 0.25, 3.0]), rng.choice([None, -1.0, 5.0])) for k in range(1, 12)]
    null_stages = PipelineModel(stages=[
        Binarizer(inputCol="x", outputCol="xb", threshold=0.5),
        Binarizer(inputCols=["x", "y"], outputCols=["xm", "ym"], thresholds=[0.0, 2.0])])
    emit(spark, "binarizer_null", null_stages, df(spark, nulls, BIN_FIELDS[:3]),
         "Binarizer on null doubles (Spark 4: 0.0; Spark 3: null)", out)


BKT_FIELDS = [("id", IntegerType()), ("x", DoubleType()), ("y", DoubleType()), ("n", IntegerType())]
INF = float("inf")


def bkt_rows(rng, n):
    specials = [None, float("nan"), -0.0, 0.0, -INF, INF, 10.0, -10.0, 2.5, 100.0, 99.999]
    rows = []
    # the first row has no nulls: Spark's JSON writer omits null fields, and JSON readers
    # order columns as they first appear
    rows = [(0, 2.5, 1.0, 1)]
    for k in range(1, n):
        x = rng.choice(specials) if k % 3 == 0 else round(rng.uniform(-20, 120), 2)
        y = rng.choice([None, 0.0, 1.0, 5.0, round(rng.uniform(0, 10), 3)])
        rows.append((k, x, y, rng.choice([None, 0, 1, 2, 3, 7])))
    return rows


@case
def bucketizer(spark, out, rng):
    """Bucketizer: ±Infinity splits, boundaries, -0.0; keep/skip/error; int input; multi-column."""
    from pyspark.ml.feature import Bucketizer
    no_nan = [(k, x if x is None or x == x else 1.0, y, n) for k, x, y, n in bkt_rows(rng, 40)]
    with_nan = bkt_rows(rng, 40)
    keep = [Bucketizer(inputCol="x", outputCol="xk", splits=[-INF, -10.0, 0.0, 2.5, 100.0, INF],
                       handleInvalid="keep"),
            Bucketizer(inputCol="y", outputCol="yk", splits=[0.0, 1.0, 5.0, 10.0]),
            Bucketizer(inputCol="n", outputCol="nk", splits=[-INF, 1.0, 3.0, INF])]
    m = PipelineModel(stages=keep)
    emit(spark, "bucketizer_keep", m, df(spark, with_nan, BKT_FIELDS),
         "Bucketizer keep with infinite splits (NaN, null, ±inf, -0.0, boundaries), error mode "
         "on y (nulls only), int input", out)
    skip = [Bucketizer(inputCol="x", outputCol="xs", splits=[-INF, -10.0, 0.0, 2.5, 100.0, INF],
                       handleInvalid="skip")]
    emit(spark, "bucketizer_skip", PipelineModel(stages=skip), df(spark, with_nan, BKT_FIELDS),
         "Bucketizer skip: rows with NaN or null input dropped", out)
    err = PipelineModel(stages=[Bucketizer(inputCol="x", outputCol="xe",
                                           splits=[-INF, 0.0, INF])])
    emit(spark, "bucketizer_error_nan", err,
         df(spark, [(0, 1.0, 1.0, 1), (1, float("nan"), 1.0, 1)], BKT_FIELDS),
         "Bucketizer error mode on NaN", out, expect_error=True)
    bounded = PipelineModel(stages=[Bucketizer(inputCol="x", outputCol="xe",
                                               splits=[0.0, 10.0, 20.0], handleInvalid="keep")])
    emit(spark, "bucketizer_error_bounds", bounded,
         df(spark, [(0, 20.0, 1.0, 1), (1, 20.5, 1.0, 1)], BKT_FIELDS),
         "Bucketizer (keep) on a value above the last split", out, expect_error=True)
    emit(spark, "bucketizer_ok_no_nan", err, df(spark, no_nan, BKT_FIELDS),
         "Bucketizer error mode on data without NaN (nulls give null)", out)
    for mode in ["keep", "skip"]:
        multi = Bucketizer(inputCols=["x", "y", "n"], outputCols=["xb", "yb", "nb"],
                           splitsArray=[[-INF, 0.0, 2.5, INF], [0.0, 5.0, 10.0],
                                        [-INF, 2.0, INF]], handleInvalid=mode)
        rows = [r for r in with_nan if r[2] is None or r[2] <= 10.0]
        if mode == "skip":
            # y is out of bounds, but x is NaN: Spark drops the row before bucketing y
            rows.append((200, float("nan"), 15.0, 1))
        emit(spark, f"bucketizer_multi_{mode}", PipelineModel(stages=[multi]),
             df(spark, rows, BKT_FIELDS),
             f"Multi-column Bucketizer (splitsArray), handleInvalid={mode}", out)


@case
def idf(spark, out, rng):
    """IDFModel on dense and sparse term-count vectors; minDocFreq zeroes rare terms."""
    from pyspark.ml.feature import IDF

    def tf(n):
        rows = []
        for k in range(n):
            counts = [float(rng.choice([0, 0, 0, 1, 2, 5])) for _ in range(6)]
            counts[5] = 0.0 if k % 9 else 1.0  # a rare term
            idx = [i for i, c in enumerate(counts) if c]
            v = Vectors.sparse(6, idx, [counts[i] for i in idx]) if k % 2 else Vectors.dense(counts)
            rows.append((k, v))
        return rows

    train = df(spark, tf(60), VEC_FIELDS)
    stages = [IDF(inputCol="v", outputCol="tfidf"),
              IDF(inputCol="v", outputCol="tfidf_min", minDocFreq=8)]
    m = Pipeline(stages=stages).fit(train)
    test = tf(25) + [(100, Vectors.sparse(6, [0, 2], [0.0, float("nan")]))]
    emit(spark, "idf", m, df(spark, test, VEC_FIELDS),
         "IDF with and without minDocFreq on dense and sparse vectors", out)


NB_FIELDS = [("id", IntegerType()), ("features", VectorUDT()), ("label", DoubleType())]


def nb_rows(rng, n, classes, kind):
    rows = []
    for k in range(n):
        label = float(rng.randrange(classes))
        if kind == "bernoulli":
            vals = [1.0 if rng.random() < (0.2 + 0.2 * ((j + int(label)) % 3)) else 0.0
                    for j in range(5)]
        elif kind == "gaussian":
            vals = [round(rng.gauss(label * (j - 2), 1.0 + 0.3 * j), 4) for j in range(5)]
        else:
            vals = [float(rng.choice([0, 0, 1, 2, 3 + int(label) * (j % 2)])) for j in range(5)]
        if kind != "gaussian" and k % 2:
            idx = [i for i, v in enumerate(vals) if v]
            v = Vectors.sparse(5, idx, [vals[i] for i in idx])
        else:
            v = Vectors.dense(vals)
        rows.append((k, v, label))
    return rows


@case
def naive_bayes(spark, out, rng):
    """NaiveBayes: multinomial, complement, bernoulli, gaussian; thresholds; renamed/empty columns."""
    from pyspark.ml.classification import NaiveBayes
    for kind in ["multinomial", "complement", "bernoulli", "gaussian"]:
        classes = 3
        train = df(spark, nb_rows(rng, 150, classes, kind), NB_FIELDS)
        fit = lambda **kw: NaiveBayes(modelType=kind, **kw).fit(train)  # noqa: E731
        variants = [
            fit(),
            fit(smoothing=0.5, thresholds=[0.5, 0.2, 0.9]).setRawPredictionCol("raw2")
            .setProbabilityCol("prob2").setPredictionCol("pred2"),
            fit().setRawPredictionCol("").setProbabilityCol("prob3").setPredictionCol("pred3"),
            fit().setRawPredictionCol("").setProbabilityCol("").setPredictionCol("pred4"),
            fit().setThresholds([0.3, 0.0, 0.6]).setRawPredictionCol("raw5")
            .setProbabilityCol("").setPredictionCol("pred5"),
        ]
        test = nb_rows(rng, 30, classes, kind)
        emit(spark, f"nb_{kind}", PipelineModel(stages=variants), df(spark, test, NB_FIELDS),
             f"NaiveBayes modelType={kind}: defaults, smoothing+thresholds, a zero threshold, "
             "renamed and empty output columns", out)
        if kind in ("multinomial", "bernoulli"):
            bad = Vectors.dense([1.0, -1.0, 0.0, 0.0, 1.0] if kind == "multinomial"
                                else [1.0, 2.0, 0.0, 0.0, 1.0])
            emit(spark, f"nb_{kind}_error", PipelineModel(stages=[variants[0]]),
                 df(spark, [(0, test[0][1], 0.0), (1, bad, 0.0)], NB_FIELDS),
                 f"NaiveBayes {kind} on an invalid feature value", out, expect_error=True)


@case
def vector_ops(spark, out, rng):
    """ElementwiseProduct, VectorSlicer (indices) and PolynomialExpansion (degree 2 and 3)."""
    from pyspark.ml.feature import ElementwiseProduct, PolynomialExpansion, VectorSlicer
    stages = [ElementwiseProduct(inputCol="v", outputCol="ep",
                                 scalingVec=Vectors.dense([2.0, 0.0, -1.5, 0.25])),
              VectorSlicer(inputCol="v", outputCol="sl", indices=[3, 0, 1]),
              VectorSlicer(inputCol="v", outputCol="sl1", indices=[2]),
              PolynomialExpansion(inputCol="v", outputCol="p2"),
              PolynomialExpansion(inputCol="v", outputCol="p3", degree=3)]
    test = vec_rows(rng, 30, nan=True) + [
        (100, Vectors.sparse(4, [], [])), (101, Vectors.sparse(4, [1, 3], [0.0, 2.0])),
        (102, Vectors.dense([0.0, 0.0, 0.0, 0.0]))]
    test_df = df(spark, test, VEC_FIELDS)
    m = Pipeline(stages=stages).fit(test_df)
    emit(spark, "vector_ops", m, test_df,
         "ElementwiseProduct, VectorSlicer and PolynomialExpansion on dense, sparse (explicit "
         "zeros), empty and NaN vectors", out)
    ep = PipelineModel(stages=[stages[0]])
    emit(spark, "elementwise_product_error_size", ep,
         df(spark, [(0, Vectors.dense([1.0, 2.0, 3.0, 4.0])), (1, Vectors.dense([1.0, 2.0]))],
            VEC_FIELDS),
         "ElementwiseProduct on a vector of the wrong size", out, expect_error=True)
# text stages (Tokenizer, RegexTokenizer, StopWordsRemover, HashingTF, CountVectorizer, NGram)

import text_fixture_cases  # noqa: E402

text_fixture_cases.register(case, emit, df)
# MLeap extension ops (mleap-spark-extension / mleap.pyspark) that have no Spark stage: the
# case has only a bundle/ (written here) and the expected columns are computed by Spark SQL
# expressions with MLeap's semantics (the Java functions MLeap calls, through java_method).


def emit_bundle_only(spark, name, test_df, outputs, nodes, description, out_root, prepare=None):
    """A case without a Spark model: `outputs` = [(column, Spark Column over test_df)] in the
    order the bundle's stages write them; `nodes` = [(node name, mleap_bundle_writer.Node)].
    `prepare` adds helper columns first (e.g. a real Spark VectorAssembler's output)."""
    mb = mleap_bundle_writer
    d = os.path.join(out_root, name)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    single_file(test_df, "parquet", os.path.join(d, "input.parquet"))
    single_file(test_df, "json", os.path.join(d, "input.jsonl"))
    if not has_vectors(test_df.schema) and not has_maps(test_df.schema):
        single_file(test_df, "csv", os.path.join(d, "input.csv"), header="true")
    base = prepare(test_df) if prepare else test_df
    out = base.select(*test_df.columns, *[c.alias(n) for n, c in outputs])
    single_file(out, "parquet", os.path.join(d, "expected.parquet"))
    single_file(out, "json", os.path.join(d, "expected.jsonl"))
    meta = {"description": description, "spark_version": spark.version, "rows": test_df.count(),
            "mleap_only": True, "output_columns": out.columns, "expected_rows": out.count()}
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    root = os.path.join(d, "bundle", "root")
    for node_name, node in nodes:
        mb.write_node_dir(os.path.join(root, f"{node_name}.node"), node_name, node)
    pipeline = f"pipeline_{name}"
    mb.dump(os.path.join(root, "node.json"), {"name": pipeline, "shape": {"inputs": [], "outputs": []}})
    mb.dump(os.path.join(root, "model.json"),
            {"op": "pipeline", "attributes": {"nodes": mb.l_strings([n for n, _ in nodes])}})
    mb.dump(os.path.join(d, "bundle", "bundle.json"), {
        "uid": "00000000-0000-0000-0000-000000000000", "name": pipeline, "format": "json",
        "version": mb.MLEAP_VERSION, "timestamp": "2026-01-01T00:00:00.000"})
    print(f"  {name}: {meta['expected_rows']} rows, bundle only", file=sys.stderr)


def sql_java(cls, method, *args):
    """SQL calling the static Java method (as MLeap does), null when any argument is null
    (java_method itself fails on a null primitive argument)."""
    nulls = " OR ".join(f"({a}) IS NULL" for a in args)
    return (f"CASE WHEN {nulls} THEN NULL ELSE "
            f"CAST(java_method('{cls}', '{method}', {', '.join(args)}) AS DOUBLE) END")


def sql_java_div(x, y):
    """Java's double division x / y in SQL (Spark SQL's `/` returns null or fails on zero)."""
    sign = f"CAST(java_method('java.lang.Math', 'copySign', 1.0D, {y}) AS DOUBLE)"
    return (f"CASE WHEN ({x}) IS NULL OR ({y}) IS NULL THEN NULL "
            f"WHEN ({y}) = 0 THEN CASE WHEN isnan({x}) OR ({x}) = 0 THEN double('NaN') "
            f"WHEN ({x}) * {sign} > 0 THEN double('Infinity') ELSE double('-Infinity') END "
            f"ELSE ({x}) / ({y}) END")


SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 0.5, -0.5, 1.5, 0.49999999999999994, 3.0, 100.0,
           -100.5, 1e-300, 1e10, 7.25, float("nan"), None, float("inf"), float("-inf")]


@case
def mleap_math_unary(spark, out, rng):
    """MLeap math_unary: every operation, on special values (NaN, null, ±0, ±∞, ties) and an
    int column (cast to double); logit on [0, 1]."""
    from mleap_bundle_writer import Node, s_string
    xs = SPECIAL + [rng.gauss(0, 3) for _ in range(20)]
    ps = [0.0, 1.0, 0.5, 0.25, float("nan"), None] + [rng.random() for _ in range(len(xs) - 6)]
    ints = [None if k % 9 == 4 else rng.randint(-5, 50) for k in range(len(xs))]
    fields = [("id", IntegerType()), ("x", DoubleType()), ("p", DoubleType()), ("i", IntegerType())]
    test = df(spark, [(k, xs[k], ps[k], ints[k]) for k in range(len(xs))], fields)
    java = {"log": "log", "exp": "exp", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan",
            "abs": "abs", "floor": "floor", "ceil": "ceil", "round": "round"}
    nodes, outputs = [], []
    for op, method in java.items():
        nodes.append((f"math_unary_{op}", Node("math_unary", {"operation": s_string(op)},
                                               [("input", "x")], [("output", f"x_{op}")])))
        outputs.append((f"x_{op}", F.expr(sql_java("java.lang.Math", method, "x"))))
    # commons-math3 Logit on [0, 1]: FastMath.log(x / (1 - x))
    nodes.append(("math_unary_logit", Node("math_unary", {"operation": s_string("logit")},
                                           [("input", "p")], [("output", "p_logit")])))
    outputs.append(("p_logit", F.expr(
        "CASE WHEN p = 1 THEN double('Infinity') ELSE "
        + sql_java("org.apache.commons.math3.util.FastMath", "log", "p / (1 - p)") + " END")))
    nodes.append(("math_unary_int", Node("math_unary", {"operation": s_string("sqrt")},
                                         [("input", "i")], [("output", "i_sqrt")])))
    outputs.append(("i_sqrt", F.expr(sql_java("java.lang.Math", "sqrt", "CAST(i AS DOUBLE)"))))
    emit_bundle_only(spark, "mleap_math_unary", test, outputs, nodes,
                     "MLeap math_unary, all operations (Java Math semantics)", out)


@case
def mleap_math_binary(spark, out, rng):
    """MLeap math_binary: every operation on two columns with zeros, NaN, nulls and infinities;
    one-column forms with da/db defaults; no columns at all (a constant)."""
    from mleap_bundle_writer import Node, s_double, s_string
    n = len(SPECIAL)
    a = SPECIAL + [rng.gauss(0, 5) for _ in range(10)]
    b = [SPECIAL[(k * 7 + 3) % n] for k in range(n)] + [rng.choice([0.0, 2.0, rng.gauss(0, 2)])
                                                        for _ in range(10)]
    ints = [None if k % 11 == 5 else rng.randint(-4, 9) for k in range(len(a))]
    fields = [("id", IntegerType()), ("a", DoubleType()), ("b", DoubleType()), ("i", IntegerType())]
    test = df(spark, [(k, a[k], b[k], ints[k]) for k in range(len(a))], fields)
    java = lambda m, x, y: sql_java("java.lang.Math", m, x, y)  # noqa: E731
    exprs = {
        "add": "a + b", "sub": "a - b", "mul": "a * b", "div": sql_java_div("a", "b"),
        "rem": "CASE WHEN a IS NULL OR b IS NULL THEN NULL WHEN b = 0 THEN double('NaN') "
               "ELSE a % b END",
        "log_n": sql_java_div(sql_java("java.lang.Math", "log", "a"),
                              sql_java("java.lang.Math", "log", "b")),
        "pow": java("pow", "a", "b"), "min": java("min", "a", "b"), "max": java("max", "a", "b"),
    }
    nodes, outputs = [], []
    for op, e in exprs.items():
        nodes.append((f"math_binary_{op}", Node("math_binary", {"operation": s_string(op)},
                                                [("input_a", "a"), ("input_b", "b")],
                                                [("output", f"ab_{op}")])))
        outputs.append((f"ab_{op}", F.expr(e)))
    # one column and a default; an input port wins over its default
    one = [("b_from_10", "sub", {"da": s_double(10.0)}, [("input_b", "b")], "10.0D - b"),
           ("a_pow_2", "pow", {"db": s_double(2.0)}, [("input_a", "a")], java("pow", "a", "2.0D")),
           ("i_div_0", "div", {"db": s_double(0.0)}, [("input_a", "i")],
            sql_java_div("CAST(i AS DOUBLE)", "0.0D")),
           ("a_log_10", "log_n", {"db": s_double(10.0), "da": s_double(99.0)}, [("input_a", "a")],
            sql_java_div(sql_java("java.lang.Math", "log", "a"),
                         sql_java("java.lang.Math", "log", "10.0D"))),
           ("const", "max", {"da": s_double(1.5), "db": s_double(-2.0)}, [],
            java("max", "1.5D", "-2.0D"))]
    for name, op, attrs, ins, e in one:
        nodes.append((f"math_binary_{name}", Node("math_binary",
                                                  {"operation": s_string(op), **attrs},
                                                  ins, [("output", name)])))
        outputs.append((name, F.expr(e)))
    emit_bundle_only(spark, "mleap_math_binary", test, outputs, nodes,
                     "MLeap math_binary, all operations, defaults (Java double semantics)", out)



@case
def imputer(spark, out, rng):
    """Spark's ImputerModel: mean/median/mode over double, float, int and long columns with
    nulls and NaN; missingValue set (NaN then stays NaN); a single-column model (MLeap bundle)."""
    from pyspark.ml.feature import Imputer
    from pyspark.sql.types import FloatType
    fields = [("id", IntegerType()), ("a", DoubleType()), ("b", FloatType()), ("c", IntegerType()),
              ("d", LongType())]

    def rows(n):
        r = []
        for k in range(n):
            a = rng.choice([None, float("nan"), -1.0, 0.0]) if k % 4 == 0 else round(rng.gauss(3, 2), 3)
            b = None if k % 5 == 1 else float(rng.randint(-1, 6)) / 2
            c = None if k % 6 == 2 else rng.choice([-1, 1, 2, 2, 3, 7])
            d = None if k % 7 == 3 else rng.randint(-1, 4) * 1000
            r.append((k, a, b, c, d))
        return r

    train, test = df(spark, rows(120), fields), df(spark, rows(40), fields)
    cols = ["a", "b", "c", "d"]
    stages = [Imputer(inputCols=cols, outputCols=[f"{c}_{s}" for c in cols], strategy=s)
              for s in ["mean", "median", "mode"]]
    stages.append(Imputer(inputCols=["a", "c"], outputCols=["a_mv", "c_mv"], missingValue=-1.0,
                          strategy="mean"))
    m = Pipeline(stages=stages).fit(train)
    emit(spark, "imputer_multi", m, test,
         "Imputer on double/float/int/long with mean, median, mode; missingValue -1", out)
    single = Pipeline(stages=[Imputer(inputCol="a", outputCol="a_imputed", strategy="median")]).fit(train)
    emit(spark, "imputer_single", single, test, "Imputer, one double column, median", out)


@case
def mleap_imputer(spark, out, rng):
    """MLeap's imputer op (mleap-spark-extension's single-column ImputerModel): null, NaN and
    missing_value are all imputed; int input gives a double output."""
    from mleap_bundle_writer import Node, s_bool, s_double, s_string
    fields = [("id", IntegerType()), ("x", DoubleType()), ("n", IntegerType())]
    xs = [1.25, None, float("nan"), -1.0, 0.0, 2.5, float("inf"), -1.0, None] + \
        [round(rng.gauss(0, 3), 2) for _ in range(12)]
    # the first row has every column (JSON readers take the column order from it)
    ns = [None if k % 5 == 1 else rng.choice([-1, 0, 3, 99]) for k in range(len(xs))]
    test = df(spark, [(k, xs[k], ns[k]) for k in range(len(xs))], fields)
    nodes = [("imputer_mv", Node("imputer", {"surrogate_value": s_double(21.7), "missing_value": s_double(-1.0),
                                              "strategy": s_string("mean"), "nullable_input": s_bool(True)},
                                 [("input", "x")], [("output", "x_imputed")])),
             ("imputer_nan", Node("imputer", {"surrogate_value": s_double(0.5), "strategy": s_string("median")},
                                  [("input", "x")], [("output", "x_nan")])),
             ("imputer_int", Node("imputer", {"surrogate_value": s_double(3.25), "missing_value": s_double(99.0),
                                              "strategy": s_string("mean"), "nullable_input": {}},
                                  [("input", "n")], [("output", "n_imputed")]))]
    outputs = [("x_imputed", F.expr("CASE WHEN x IS NULL OR isnan(x) OR x = -1.0D THEN 21.7D ELSE x END")),
               ("x_nan", F.expr("CASE WHEN x IS NULL OR isnan(x) THEN 0.5D ELSE x END")),
               ("n_imputed", F.expr("CASE WHEN n IS NULL OR n = 99 THEN 3.25D ELSE CAST(n AS DOUBLE) END"))]
    emit_bundle_only(spark, "mleap_imputer", test, outputs, nodes,
                     "MLeap imputer: null, NaN and missing_value imputed; double output", out)



@case
def mleap_string_map(spark, out, rng):
    """MLeap string_map: keep with a default, keep with the implicit 0.0 default, error mode on
    known labels, a numeric input (cast to string as Java prints it); nulls and unseen labels."""
    from mleap_bundle_writer import Node, l_doubles, l_strings, s_double, s_string
    fields = [("id", IntegerType()), ("s", StringType()), ("d", DoubleType()), ("k", StringType())]
    labels = ["red", "green", "blue", "Red", "dark blue"]
    values = [1.0, 2.5, -3.0, 40.0, 7.0]
    ss = labels + [None, "purple", "RED", "Green"] + [rng.choice(labels + ["x"]) for _ in range(16)]
    ds = [1.0, 2.5, None, 1e7, 0.1, float("nan")] + [rng.choice([1.0, 2.5, 3.0]) for _ in range(19)]
    ks = [rng.choice(labels) for _ in range(len(ss))]
    test = df(spark, [(i, ss[i], ds[i], ks[i]) for i in range(len(ss))], fields)

    def case_sql(colexpr, labs, vals, default):
        whens = " ".join(f"WHEN {colexpr} = '{lab}' THEN {float(v)}D" for lab, v in zip(labs, vals))
        return f"CASE {whens} ELSE {float(default)}D END"

    num_labels, num_values = ["1.0", "2.5", "1.0E7"], [10.0, 20.0, 30.0]
    nodes = [("string_map_keep", Node("string_map", {
                 "labels": l_strings(labels), "values": l_doubles(values),
                 "handle_invalid": s_string("keep"), "default_value": s_double(-1.0)},
                 [("input", "s")], [("output", "s_keep")])),
             ("string_map_zero", Node("string_map", {
                 "labels": l_strings(labels), "values": l_doubles(values),
                 "handle_invalid": s_string("keep")},
                 [("input", "s")], [("output", "s_zero")])),
             ("string_map_error", Node("string_map", {
                 "labels": l_strings(labels), "values": l_doubles(values)},
                 [("input", "k")], [("output", "k_error")])),
             ("string_map_num", Node("string_map", {
                 "labels": l_strings(num_labels), "values": l_doubles(num_values),
                 "handle_invalid": s_string("keep"), "default_value": s_double(0.5)},
                 [("input", "d")], [("output", "d_mapped")]))]
    outputs = [("s_keep", F.expr(case_sql("s", labels, values, -1.0))),
               ("s_zero", F.expr(case_sql("s", labels, values, 0.0))),
               ("k_error", F.expr(case_sql("k", labels, values, 0.0))),
               ("d_mapped", F.expr(case_sql("CAST(d AS STRING)", num_labels, num_values, 0.5)))]
    emit_bundle_only(spark, "mleap_string_map", test, outputs, nodes,
                     "MLeap string_map: keep/default, error, numeric input", out)


@case
def mleap_coalesce(spark, out, rng):
    """MLeap coalesce: first non-null of double and int columns (NaN is not null), all-null rows."""
    from mleap_bundle_writer import Node
    fields = [("id", IntegerType()), ("a", DoubleType()), ("b", DoubleType()), ("c", IntegerType())]
    pick = lambda vals: [rng.choice(vals) for _ in range(24)]  # noqa: E731
    # the first row has every column (JSON readers take the column order from it)
    a = [0.5, None, None, float("nan"), None] + pick([None, 1.5, -2.0, float("nan")])
    b = [1.0, None, 3.0, 4.0, None] + pick([None, 0.0, 7.25])
    c = [2, None, 5, 6, 8] + pick([None, -3, 11])
    test = df(spark, [(i, a[i], b[i], c[i]) for i in range(len(a))], fields)
    bools = {"type": "list", "boolean": [True, True, True]}
    nodes = [("coalesce_abc", Node("coalesce", {"nullable_inputs": bools},
                                   [("input0", "a"), ("input1", "b"), ("input2", "c")],
                                   [("output", "abc")])),
             ("coalesce_cb", Node("coalesce", {"nullable_inputs": {"type": "list", "boolean": [True, True]}},
                                  [("input0", "c"), ("input1", "b")], [("output", "cb")]))]
    outputs = [("abc", F.coalesce(F.col("a"), F.col("b"), F.col("c").cast("double"))),
               ("cb", F.coalesce(F.col("c").cast("double"), F.col("b")))]
    emit_bundle_only(spark, "mleap_coalesce", test, outputs, nodes,
                     "MLeap coalesce over double and int columns with nulls and NaN", out)



@case
def linear_svc(spark, out, rng):
    """Spark's LinearSVC: default threshold 0, positive and negative thresholds, renamed and
    empty output columns."""
    from pyspark.ml.classification import LinearSVC
    va = VectorAssembler(inputCols=["x1", "x2", "x3"], outputCol="features")
    feats = va.transform(df(spark, lr_rows(rng, 200, 2), LR_FIELDS))
    fit = lambda: LinearSVC(maxIter=50, regParam=0.01).fit(feats)  # noqa: E731
    variants = [
        fit(),
        fit().setThreshold(0.5).setRawPredictionCol("raw2").setPredictionCol("pred2"),
        fit().setThreshold(-0.3).setRawPredictionCol("").setPredictionCol("pred3"),
        fit().setRawPredictionCol("raw4").setPredictionCol(""),
    ]
    m = PipelineModel(stages=[va] + variants)
    emit(spark, "linear_svc", m, df(spark, lr_rows(rng, 40, 2, extreme=True), LR_FIELDS),
         "LinearSVC with threshold 0, 0.5, -0.3 and renamed/empty output columns", out)


@case
def mleap_svm(spark, out, rng):
    """MLeap support_vector_machine (mllib SVMModel): raw [-m, m], probability = raw,
    prediction = argmax, or argmax of raw / thresholds."""
    from mleap_bundle_writer import Node, l_doubles, s_double, s_long, t_doubles
    from pyspark.ml.functions import array_to_vector
    fields = [("id", IntegerType()), ("x1", DoubleType()), ("x2", DoubleType())]
    rows = [(0, 0.0, 0.0), (1, 1.0, -0.82), (2, -3.0, 2.0)] + \
        [(k, rng.choice([0.0, rng.gauss(0, 2)]), rng.gauss(0, 2)) for k in range(3, 30)]
    test = df(spark, rows, fields)
    coef, b = [0.53, 0.67], 0.55
    va = VectorAssembler(inputCols=["x1", "x2"], outputCol="features")
    m = f"(x1 * {coef[0]}D + x2 * {coef[1]}D + {b}D)"
    svm_attrs = {"coefficients": t_doubles(coef, [2]), "intercept": s_double(b), "num_classes": s_long(2)}
    nodes = [("vecAssembler", Node("vector_assembler", {}, [("input0", "x1"), ("input1", "x2")],
                                   [("output", "features")])),
             ("svm", Node("support_vector_machine", svm_attrs, [("features", "features")],
                          [("prediction", "prediction"), ("raw_prediction", "raw_prediction"),
                           ("probability", "probability")])),
             ("svm_thresholds", Node("support_vector_machine",
                                     {**svm_attrs, "thresholds": l_doubles([0.3, 0.7])},
                                     [("features", "features")],
                                     [("raw_prediction", "raw_t"), ("prediction", "pred_t")])),
             ("svm_pred_only", Node("support_vector_machine",
                                    {**svm_attrs, "thresholds": l_doubles([0.9, 0.1])},
                                    [("features", "features")], [("prediction", "pred_only")]))]
    raw = array_to_vector(F.array(F.expr(f"-{m}"), F.expr(m)))
    outputs = [("raw_prediction", raw), ("probability", raw),
               ("prediction", F.expr(f"CASE WHEN {m} > -{m} THEN 1.0D ELSE 0.0D END")),
               ("raw_t", raw),
               ("pred_t", F.expr(f"CASE WHEN {m} / 0.7D > -{m} / 0.3D THEN 1.0D ELSE 0.0D END")),
               ("pred_only", F.expr(f"CASE WHEN {m} / 0.1D > -{m} / 0.9D THEN 1.0D ELSE 0.0D END"))]
    emit_bundle_only(spark, "mleap_svm", test,
                     [("features", F.col("__features"))] + outputs, nodes,
                     "MLeap support_vector_machine: probability = raw, argmax / thresholds", out,
                     prepare=lambda d: va.setOutputCol("__features").transform(d))



@case
def mleap_regex_indexer(spark, out, rng):
    """MLeap regex_indexer: first matching regex wins (unanchored search), default_value for
    the rest; a second indexer where every row matches and there is no default."""
    from mleap_bundle_writer import Node, s_long
    fields = [("id", IntegerType()), ("s", StringType())]
    words = ["apple pie", "banana", "cherry", "Apple", "app", "grape-fruit", "kiwi 42", "x123y",
             "plum", "lime", "peach", "b", "berry berry", "melon7"]
    ss = words + [rng.choice(words) for _ in range(16)]
    test = df(spark, [(i, ss[i]) for i in range(len(ss))], fields)
    regexes, indices = ["^app", "an+a", "[0-9]{2,}", "(?i)apple", "rr", "e$"], [3, 1, 4, 7, 2, 5]
    strict_regexes, strict_indices = [".*", "^z"], [0, 1]
    ilist = lambda xs: {"type": "list", "int": list(xs)}  # noqa: E731
    slist = mleap_bundle_writer.l_strings
    nodes = [("regex_indexer_default", Node("regex_indexer", {
                 "regexes": slist(regexes), "indices": ilist(indices), "default_value": {"int": -1}},
                 [("input", "s")], [("output", "s_index")])),
             ("regex_indexer_strict", Node("regex_indexer", {
                 "regexes": slist(strict_regexes), "indices": ilist(strict_indices)},
                 [("input", "s")], [("output", "s_any")]))]

    def case_sql(rs, ix, default):
        whens = " ".join(f"WHEN s RLIKE '{r}' THEN {i}" for r, i in zip(rs, ix))
        return f"CAST(CASE {whens} ELSE {default} END AS INT)"

    outputs = [("s_index", F.expr(case_sql(regexes, indices, -1))),
               ("s_any", F.expr(case_sql(strict_regexes, strict_indices, "NULL")))]
    emit_bundle_only(spark, "mleap_regex_indexer", test, outputs, nodes,
                     "MLeap regex_indexer: first match, default, no default", out)


@case
def mleap_multinomial_labeler(spark, out, rng):
    """MLeap multinomial_labeler: the vector entries >= threshold in index order, as values
    (array<double>) and labels (array<string>); dense and sparse vectors, NaN (never passes in
    Scala), -0.0, values equal to the threshold, rows where nothing passes; a zero threshold
    (written as `{}`: sparse zeros pass) with only the labels port; only the probabilities port."""
    from mleap_bundle_writer import Node, l_strings, s_double
    from pyspark.ml.functions import vector_to_array
    labels = ["fico", "dti", "income", "age"]
    fixed = [Vectors.dense([0.1, 0.25, 0.7, 0.0]), Vectors.dense([0.25, float("nan"), -0.0, 1.0]),
             Vectors.sparse(4, [1, 3], [0.3, -0.5]), Vectors.sparse(4, [], []),
             Vectors.dense([0.0, 0.0, 0.0, 0.0]), Vectors.dense([0.2, 0.1, -1.0, 0.24999999999999997]),
             Vectors.dense([0.5, 0.5, 0.5, 0.5])]

    def random_vector():
        xs = [rng.choice([0.0, 0.25, 0.5, round(rng.random(), 3)]) for _ in range(4)]
        if rng.random() < 0.4:
            nz = [i for i, x in enumerate(xs) if x != 0.0]
            return Vectors.sparse(4, nz, [xs[i] for i in nz])
        return Vectors.dense(xs)

    vectors = fixed + [random_vector() for _ in range(20)]
    test = df(spark, [(i, v) for i, v in enumerate(vectors)],
              [("id", IntegerType()), ("features", VectorUDT())])
    attrs = lambda t: {"threshold": t, "labels": l_strings(labels)}  # noqa: E731
    nodes = [("multinomial_labeler", Node("multinomial_labeler", attrs(s_double(0.25)),
                                          [("features", "features")],
                                          [("probabilities", "probabilities"), ("labels", "labels")])),
             ("multinomial_labeler_zero", Node("multinomial_labeler", attrs({}),
                                               [("features", "features")], [("labels", "labels_zero")])),
             ("multinomial_labeler_half", Node("multinomial_labeler", attrs(s_double(0.5)),
                                               [("features", "features")],
                                               [("probabilities", "probabilities_half")]))]
    arr = vector_to_array(F.col("features"))
    names = F.array(*[F.lit(x) for x in labels])

    def passing(t):
        # Scala's `>=`: NaN never passes (Spark SQL orders NaN above every number)
        pairs = F.transform(arr, lambda x, i: F.struct(x.alias("x"), i.alias("i")))
        return F.filter(pairs, lambda e: ~F.isnan(e["x"]) & (e["x"] >= F.lit(t)))

    values = lambda t: F.transform(passing(t), lambda e: e["x"])  # noqa: E731
    label_of = lambda t: F.transform(passing(t), lambda e: F.element_at(names, e["i"] + 1))  # noqa: E731
    outputs = [("probabilities", values(0.25)), ("labels", label_of(0.25)),
               ("labels_zero", label_of(0.0)), ("probabilities_half", values(0.5))]
    emit_bundle_only(spark, "mleap_multinomial_labeler", test, outputs, nodes,
                     "MLeap multinomial_labeler: entries >= threshold as values and labels", out)


@case
def mleap_map_entry_selector(spark, out, rng):
    """MLeap map_entry_selector: map[key], or default_value when the key is absent; present,
    absent and null keys, empty maps, a null and a NaN value, case-sensitive and empty keys;
    double values with a default and with the implicit 0.0 (`{}`), string values."""
    from mleap_bundle_writer import Node, s_basic_type, s_double, s_string
    fields = [("id", IntegerType()), ("m", MapType(StringType(), DoubleType())), ("k", StringType()),
              ("tags", MapType(StringType(), StringType())), ("t", StringType())]
    # the first row has every column (JSON readers take the column order from it)
    fixed = [(0, {"a": 1.0, "b": 2.5}, "a", {"color": "red", "size": "L"}, "color"),
             (1, {"a": 1.0, "b": 2.5}, "z", {"color": "blue"}, "size"),
             (2, {}, "a", {}, "color"),
             (3, {"a": None, "b": 3.0}, "a", {"color": None}, "color"),
             (4, {"a": float("nan")}, "a", {"Color": "upper"}, "color"),
             (5, {"a": 1.0}, None, {"color": "green"}, None),
             (6, {"A": 7.0, "": -1.0}, "", {"": "empty"}, ""),
             (7, {"A": 7.0}, "a", {"size": "S"}, "size")]
    keys, tag_keys = ["a", "b", "c", "d"], ["color", "size"]
    rand = []
    for i in range(len(fixed), len(fixed) + 16):
        m = {x: round(rng.gauss(0, 3), 3) for x in keys if rng.random() < 0.5}
        tags = {x: rng.choice(["red", "blue", "M"]) for x in tag_keys if rng.random() < 0.6}
        rand.append((i, m, rng.choice(keys + ["x"]), tags, rng.choice(tag_keys + ["x"])))
    test = df(spark, fixed + rand, fields)
    typed = lambda v, d: {"key_type": s_basic_type("string"), "value_type": s_basic_type(v),  # noqa: E731
                          "default_value": d}
    nodes = [("map_entry_selector", Node("map_entry_selector", typed("double", s_double(42.5)),
                                         [("input", "m"), ("key", "k")], [("output", "m_k")])),
             ("map_entry_selector_zero", Node("map_entry_selector", typed("double", {}),
                                              [("input", "m"), ("key", "k")], [("output", "m_k_zero")])),
             ("map_entry_selector_string", Node("map_entry_selector", typed("string", s_string("none")),
                                                [("input", "tags"), ("key", "t")], [("output", "tag")]))]

    def select(m, k, default):
        # Scala's Map.getOrElse: a present key gives its value (null included); a null key is
        # never present
        found = F.col(k).isNotNull() & F.map_contains_key(F.col(m), F.col(k))
        return F.when(found, F.element_at(F.col(m), F.col(k))).otherwise(F.lit(default))

    outputs = [("m_k", select("m", "k", 42.5)), ("m_k_zero", select("m", "k", 0.0)),
               ("tag", select("tags", "t", "none"))]
    emit_bundle_only(spark, "mleap_map_entry_selector", test, outputs, nodes,
                     "MLeap map_entry_selector: map[key] or default_value, double and string values",
                     out)


def write_example(spark, root):
    """examples/car-evaluation: the README's model, a sample input, Spark's output for it."""
    src = os.path.join(root, "tests", "fixtures", "spark", "car_evaluation")
    dst = os.path.join(root, "examples", "car-evaluation")
    if os.path.exists(dst):
        shutil.rmtree(dst)
    os.makedirs(dst)
    shutil.copytree(os.path.join(src, "model"), os.path.join(dst, "model"))
    shutil.copy(os.path.join(src, "input.csv"), os.path.join(dst, "input.csv"))
    # the SageMaker schema for `ember serve` (SAGEMAKER_SPARKML_SCHEMA)
    schema = {"input": [{"name": c, "type": "string"} for c in CAR_COLS],
              "output": {"name": "predicted_class", "type": "string"}}
    with open(os.path.join(dst, "schema.json"), "w") as f:
        f.write(json.dumps(schema, separators=(",", ":")) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "spark"))
    ap.add_argument("--only", nargs="*", help="case functions to run (default: all)")
    ap.add_argument("--no-example", action="store_true", help="do not refresh examples/")
    args = ap.parse_args()
    spark = (SparkSession.builder.master("local[2]").appName("ember-fixtures")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    os.makedirs(args.out, exist_ok=True)
    print(f"Spark {spark.version} -> {args.out}", file=sys.stderr)
    for name, fn in CASES.items():
        if args.only and name not in args.only:
            continue
        # one seeded generator per case: regenerating one case does not shift the others
        fn(spark, args.out, random.Random(f"ember-{name}"))
    if not args.no_example and (not args.only or "car_evaluation" in args.only):
        write_example(spark, ROOT)
    spark.stop()


if __name__ == "__main__":
    main()
