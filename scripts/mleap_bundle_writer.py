#!/usr/bin/env python3
"""Test-only MLeap bundle writer: the same fitted stages, in MLeap's format.

Reads a Spark `PipelineModel.save()` directory (metadata JSON + Parquet data, read with pyarrow)
and writes the MLeap bundle that MLeap's Spark serializers would write for it, following the
format notes in ../shared/spec/mleap-bundle.md (JSON encoding, MLeap 0.23 attribute names):

    <out>/bundle.json
    <out>/root/{node.json,model.json}          the pipeline op, listing the stage nodes in order
    <out>/root/<uid>.node/{node.json,model.json}  one per stage (nested pipelines nest)

It exists so that the parity tests can check ember's two front ends (Spark directory and MLeap
bundle) against the same Spark output: `tests/fixtures/spark/<case>/bundle/` next to `model/`.
A stage the MLeap op cannot express (e.g. VectorAssembler handleInvalid=keep: MLeap's
vector_assembler has no such attribute) makes the whole case unwritable; the writer then writes
nothing for it and says why.

Usage:
    .venv-spark/bin/python scripts/mleap_bundle_writer.py                 # every fixture case
    .venv-spark/bin/python scripts/mleap_bundle_writer.py --only si_keep  # some cases

Adding a stage: a function `write_<x>(stage) -> Node` registered in WRITERS under the Spark
class's short name (`StringIndexerModel`); the `Stage` gives the params and data rows, the
`Node` holds op, attributes, ports and any extra files (trees).
"""
import argparse
import glob
import json
import math
import os
import shutil
import sys

import pyarrow.parquet as pq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MLEAP_VERSION = "0.23.0"


class Unwritable(Exception):
    """The stage has a setting MLeap's op cannot express."""


# ----------------------------------------------------------------------------------------
# attribute values, as MLeap's JsonSupport writes them


def _num(x):
    return None if (isinstance(x, float) and (math.isnan(x) or math.isinf(x))) else x


def s_double(x):
    return {"double": _num(float(x))}


def s_long(x):
    return {"long": int(x)}


def s_bool(x):
    return {"boolean": bool(x)}


def s_string(x):
    return {"string": x}


def s_basic_type(name):
    """A basic type value (`Value.basicType`): `double`, `string`, ..."""
    return {"basic_type": name}


def l_strings(xs):
    return {"type": "list", "string": list(xs)}


def l_doubles(xs):
    return {"type": "list", "double": [_num(float(x)) for x in xs]}


def l_longs(xs):
    return {"type": "list", "long": [int(x) for x in xs]}


def t_doubles(xs, dims):
    return {"type": "tensor", "double": [_num(float(x)) for x in xs],
            "shape": {"dimensions": [{"size": int(d), "name": ""} for d in dims]}}


def dense(v):
    """A Spark VectorUDT struct from Parquet as a dense Python list."""
    if v["type"] == 1:
        return list(v["values"])
    out = [0.0] * v["size"]
    for i, x in zip(v["indices"], v["values"]):
        out[i] = x
    return out


def column_major(m):
    """A Spark MatrixUDT struct as (rows, cols, values column-major), what MLeap stores."""
    rows, cols = m["numRows"], m["numCols"]
    full = [[0.0] * cols for _ in range(rows)]
    if m["type"] == 1:  # dense
        vals = m["values"]
        for k, x in enumerate(vals):
            if m["isTransposed"]:
                r, c = divmod(k, cols)
            else:
                c, r = divmod(k, rows)
            full[r][c] = x
    else:  # sparse: CSC, or CSR when transposed
        ptrs, idx, vals = m["colPtrs"], m["rowIndices"], m["values"]
        outer = rows if m["isTransposed"] else cols
        for o in range(outer):
            for k in range(ptrs[o], ptrs[o + 1]):
                r, c = (o, idx[k]) if m["isTransposed"] else (idx[k], o)
                full[r][c] = vals[k]
    return rows, cols, [full[r][c] for c in range(cols) for r in range(rows)]


# ----------------------------------------------------------------------------------------
# reading the Spark directory


class Stage:
    """One saved Spark stage: class, uid, params (explicit over default) and data rows."""

    def __init__(self, path):
        self.path = path
        meta_file = glob.glob(os.path.join(path, "metadata", "part-*"))[0]
        with open(meta_file) as f:
            self.meta = json.loads(f.readline())
        self.cls = self.meta["class"]
        self.short = self.cls.rsplit(".", 1)[1]
        self.uid = self.meta["uid"]
        self.params = dict(self.meta.get("defaultParamMap", {}))
        self.params.update(self.meta.get("paramMap", {}))
        data = sorted(glob.glob(os.path.join(path, "data", "*.parquet")))
        self.rows = [r for f in data for r in pq.read_table(f).to_pylist()]

    def p(self, name, default=None):
        return self.params.get(name, default)

    def row(self):
        assert len(self.rows) == 1, f"{self.uid}: expected one data row"
        return self.rows[0]


class Node:
    """An MLeap node: op, attributes, port bindings, extra files (relative path → text)."""

    def __init__(self, op, attributes, inputs, outputs, files=None):
        self.op, self.attributes = op, attributes
        self.inputs, self.outputs = inputs, outputs
        self.files = files or {}


# ----------------------------------------------------------------------------------------
# per-stage writers


def single_or_multi(stage):
    if stage.p("inputCols"):
        return list(stage.p("inputCols")), list(stage.p("outputCols"))
    return [stage.p("inputCol")], [stage.p("outputCol")]


def ports(prefix, cols, numbered):
    if not numbered:
        return [(prefix, cols[0])]
    return [(f"{prefix}{i}", c) for i, c in enumerate(cols)]


def write_string_indexer(stage):
    ins, outs = single_or_multi(stage)
    labels = stage.row().get("labelsArray") or [stage.row()["labels"]]
    multi = len(ins) > 1
    attrs = {"handle_invalid": s_string(stage.p("handleInvalid", "error"))}
    if multi:
        attrs["labels_length"] = s_long(len(labels))
        for k, ls in enumerate(labels):
            attrs[f"labels_array_{k}"] = l_strings(ls)
    else:
        attrs["labels_length"] = s_long(1)
        attrs["labels_array_0"] = l_strings(labels[0])
    return Node("string_indexer", attrs, ports("input", ins, multi), ports("output", outs, multi))


def write_one_hot_encoder(stage):
    ins, outs = single_or_multi(stage)
    attrs = {"category_sizes": l_longs(stage.row()["categorySizes"]),
             "drop_last": s_bool(stage.p("dropLast", True)),
             "handle_invalid": s_string(stage.p("handleInvalid", "error"))}
    return Node("one_hot_encoder", attrs, ports("input", ins, True), ports("output", outs, True))


def write_vector_assembler(stage):
    if stage.p("handleInvalid", "error") != "error":
        raise Unwritable("MLeap's vector_assembler has no handle_invalid")
    ins = list(stage.p("inputCols"))
    return Node("vector_assembler", {}, ports("input", ins, True),
                [("output", stage.p("outputCol"))])


def write_standard_scaler(stage):
    row = stage.row()
    attrs = {}
    if stage.p("withMean", False):
        m = dense(row["mean"])
        attrs["mean"] = t_doubles(m, [len(m)])
    if stage.p("withStd", True):
        s = dense(row["std"])
        attrs["std"] = t_doubles(s, [len(s)])
    if not attrs:
        raise Unwritable("MLeap's standard_scaler needs mean or std")
    return Node("standard_scaler", attrs, [("input", stage.p("inputCol"))],
                [("output", stage.p("outputCol"))])


def write_index_to_string(stage):
    if not stage.p("labels"):
        raise Unwritable("IndexToString without labels reads column metadata; MLeap needs labels")
    return Node("reverse_string_indexer", {"labels": l_strings(stage.p("labels"))},
                [("input", stage.p("inputCol"))], [("output", stage.p("outputCol"))])


def classifier_outputs(stage):
    outs = []
    for port, param in [("raw_prediction", "rawPredictionCol"), ("probability", "probabilityCol"),
                        ("prediction", "predictionCol")]:
        if stage.p(param):
            outs.append((port, stage.p(param)))
    return outs


def write_logistic_regression(stage):
    row = stage.row()
    rows, cols, values = column_major(row["coefficientMatrix"])
    intercepts = dense(row["interceptVector"])
    attrs = {"num_classes": s_long(row["numClasses"])}
    if row["isMultinomial"]:
        attrs["coefficient_matrix"] = t_doubles(values, [rows, cols])
        attrs["intercept_vector"] = t_doubles(intercepts, [len(intercepts)])
    else:
        attrs["coefficients"] = t_doubles(values, [cols])
        attrs["intercept"] = s_double(intercepts[0])
        attrs["threshold"] = s_double(stage.p("threshold", 0.5))
    if stage.p("thresholds"):
        attrs["thresholds"] = l_doubles(stage.p("thresholds"))
    return Node("logistic_regression", attrs, [("features", stage.p("featuresCol", "features"))],
                classifier_outputs(stage))


def write_linear_regression(stage):
    row = stage.row()
    coef = dense(row["coefficients"])
    attrs = {"coefficients": t_doubles(coef, [len(coef)]), "intercept": s_double(row["intercept"])}
    return Node("linear_regression", attrs, [("features", stage.p("featuresCol", "features"))],
                [("prediction", stage.p("predictionCol", "prediction"))])


WRITERS = {
    "StringIndexerModel": write_string_indexer,
    "OneHotEncoderModel": write_one_hot_encoder,
    "VectorAssembler": write_vector_assembler,
    "StandardScalerModel": write_standard_scaler,
    "IndexToString": write_index_to_string,
    "LogisticRegressionModel": write_logistic_regression,
    "LinearRegressionModel": write_linear_regression,
}

# Stage families add their writers from their own modules (scripts/mleap_writers_*.py), each
# defining WRITERS = {short class name: function}.
for _extra in sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                            "mleap_writers_*.py"))):
    _ns = {"__name__": os.path.basename(_extra)[:-3]}
    with open(_extra) as _f:
        exec(compile(_f.read(), _extra, "exec"), {**globals(), **_ns}, _ns)  # noqa: S102
    WRITERS.update(_ns.get("WRITERS", {}))


# ----------------------------------------------------------------------------------------
# writing the bundle


def dump(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def write_node_dir(d, name, node):
    dump(os.path.join(d, "node.json"), {
        "name": name,
        "shape": {"inputs": [{"port": p, "name": n} for p, n in node.inputs],
                  "outputs": [{"port": p, "name": n} for p, n in node.outputs]}})
    dump(os.path.join(d, "model.json"), {"op": node.op, "attributes": node.attributes})
    for rel, text in node.files.items():
        path = os.path.join(d, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def write_pipeline(model_dir, out_dir):
    """Writes the pipeline node for the Spark PipelineModel in `model_dir` into `out_dir`."""
    meta = Stage(model_dir)
    names = []
    for sub in sorted(os.listdir(os.path.join(model_dir, "stages"))):
        path = os.path.join(model_dir, "stages", sub)
        stage = Stage(path)
        node_dir = os.path.join(out_dir, f"{stage.uid}.node")
        if stage.short == "PipelineModel":
            write_pipeline(path, node_dir)
        else:
            writer = WRITERS.get(stage.short)
            if writer is None:
                raise Unwritable(f"no MLeap writer for {stage.short}")
            write_node_dir(node_dir, stage.uid, writer(stage))
        names.append(stage.uid)
    dump(os.path.join(out_dir, "node.json"), {"name": meta.uid, "shape": {"inputs": [], "outputs": []}})
    dump(os.path.join(out_dir, "model.json"),
         {"op": "pipeline", "attributes": {"nodes": l_strings(names)}})
    return meta.uid


def write_bundle(model_dir, out):
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        name = write_pipeline(model_dir, os.path.join(tmp, "root"))
    except Unwritable:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    dump(os.path.join(tmp, "bundle.json"), {
        "uid": "00000000-0000-0000-0000-000000000000", "name": name, "format": "json",
        "version": MLEAP_VERSION, "timestamp": "2026-01-01T00:00:00.000"})
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", nargs="*", default=[os.path.join(ROOT, "tests", "fixtures", "spark"),
                                                      os.path.join(ROOT, "tests", "fixtures", "spark35")])
    ap.add_argument("--only", nargs="*", help="case names (default: all)")
    args = ap.parse_args()
    for root in args.fixtures:
        for case in sorted(os.listdir(root)):
            if args.only and case not in args.only:
                continue
            d = os.path.join(root, case)
            out = os.path.join(d, "bundle")
            try:
                write_bundle(os.path.join(d, "model"), out)
                print(f"  {os.path.basename(root)}/{case}: bundle written", file=sys.stderr)
            except Unwritable as e:
                shutil.rmtree(out, ignore_errors=True)
                print(f"  {os.path.basename(root)}/{case}: no bundle ({e})", file=sys.stderr)


if __name__ == "__main__":
    main()
