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

import mleap_bundle_writer
from pyspark.sql.types import (BooleanType, DoubleType, IntegerType, LongType, StringType,
                               StructField, StructType)

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


def emit(spark, name, model, test_df, description, out_root, expect_error=False):
    d = os.path.join(out_root, name)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    model.write().overwrite().save(os.path.join(d, "model"))
    clean_model_dir(os.path.join(d, "model"))
    single_file(test_df, "parquet", os.path.join(d, "input.parquet"))
    single_file(test_df, "json", os.path.join(d, "input.jsonl"))
    if not has_vectors(test_df.schema):
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


def write_example(spark, root):
    """examples/car-evaluation: the README's model, a sample input, Spark's output for it."""
    src = os.path.join(root, "tests", "fixtures", "spark", "car_evaluation")
    dst = os.path.join(root, "examples", "car-evaluation")
    if os.path.exists(dst):
        shutil.rmtree(dst)
    os.makedirs(dst)
    shutil.copytree(os.path.join(src, "model"), os.path.join(dst, "model"))
    shutil.copy(os.path.join(src, "input.csv"), os.path.join(dst, "input.csv"))


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
