"""MLeap writers for the numeric feature stages and NaiveBayes (loaded by mleap_bundle_writer.py).

Attribute names follow MLeap's Spark ops (see ../shared/spec/mleap-bundle.md). Helpers (Node,
Unwritable, s_*/l_*/t_*, dense, column_major, classifier_outputs, single_or_multi, ports) come
from mleap_bundle_writer's namespace.
"""
import os

import pyarrow.parquet as pq


def _io(stage):
    return [("input", stage.p("inputCol"))], [("output", stage.p("outputCol"))]


def _zero_or_double(x):
    # MLeap's JSON writer omits zero values: {} reads back as 0.0
    return {} if float(x) == 0.0 else s_double(x)  # noqa: F821


def write_min_max_scaler(stage):
    row = stage.row()
    lo, hi = dense(row["originalMin"]), dense(row["originalMax"])  # noqa: F821
    attrs = {"min": t_doubles(lo, [len(lo)]), "max": t_doubles(hi, [len(hi)])}  # noqa: F821
    lo_v, hi_v = float(stage.p("min", 0.0)), float(stage.p("max", 1.0))
    # bundles written before MLeap 0.17 carry no minValue/maxValue (Spark's defaults 0 and 1);
    # write them only when the range is not the default, so both forms are exercised
    if (lo_v, hi_v) != (0.0, 1.0):
        attrs["minValue"] = _zero_or_double(lo_v)
        attrs["maxValue"] = _zero_or_double(hi_v)
    ins, outs = _io(stage)
    return Node("min_max_scaler", attrs, ins, outs)  # noqa: F821


def write_max_abs_scaler(stage):
    m = dense(stage.row()["maxAbs"])  # noqa: F821
    ins, outs = _io(stage)
    return Node("max_abs_scaler", {"maxAbs": t_doubles(m, [len(m)])}, ins, outs)  # noqa: F821


def _p(value):
    if isinstance(value, str):  # Spark writes infinity as "Inf"
        return float("inf") if value in ("Inf", "Infinity") else float(value)
    return float(value)


def write_normalizer(stage):
    ins, outs = _io(stage)
    return Node("normalizer", {"p_norm": s_double(_p(stage.p("p", 2.0)))}, ins, outs)  # noqa: F821


def _input_is_vector(stage, column):
    """Whether `column` of the fixture's input.parquet is a vector (the Spark op reads the
    dataset's schema for its data shapes; here the case's input stands in for it)."""
    case = os.path.dirname(os.path.dirname(os.path.dirname(stage.path)))
    path = os.path.join(case, "input.parquet")
    if not os.path.exists(path):
        raise Unwritable("binarizer data shapes need the case's input.parquet")  # noqa: F821
    schema = pq.read_schema(path)
    import pyarrow as pa
    return pa.types.is_struct(schema.field(column).type)


def _double_nulls_in_spark4(stage, columns):
    """MLeap's binarizer follows Spark 3 on a null double (null out); Spark 4 returns 0.0."""
    if not stage.meta.get("sparkVersion", "").startswith("4"):
        return False
    case = os.path.dirname(os.path.dirname(os.path.dirname(stage.path)))
    table = pq.read_table(os.path.join(case, "input.parquet"))
    return any(not _input_is_vector(stage, c) and table.column(c).null_count > 0
               for c in columns)


def _shape(stage, column):
    if _input_is_vector(stage, column):
        return {"base": "tensor", "isNullable": True,
                "tensorShape": {"dimensions": [{"size": -1, "name": ""}]}}
    return {"base": "scalar", "isNullable": True}


def write_binarizer(stage):
    ins, outs = single_or_multi(stage)  # noqa: F821
    if _double_nulls_in_spark4(stage, ins):
        raise Unwritable("Spark 4's Binarizer maps a null double to 0.0, MLeap's "  # noqa: F821
                         "(like Spark 3's) keeps it null")
    if stage.p("inputCols"):
        thresholds = stage.p("thresholds") or [stage.p("threshold", 0.0)] * len(ins)
        attrs = {"thresholds": l_doubles(thresholds),  # noqa: F821
                 "input_shapes_list": {"type": "list",
                                       "data_shape": [_shape(stage, c) for c in ins]}}
        return Node("binarizer", attrs, ports("input", ins, True),  # noqa: F821
                    ports("output", outs, True))  # noqa: F821
    attrs = {"threshold": _zero_or_double(stage.p("threshold", 0.0))}
    shape = _shape(stage, ins[0])
    if shape["base"] == "scalar":
        attrs["input_shape"] = {"data_shape": shape}  # the 0.8-era attribute name
    else:
        attrs["input_shapes"] = {"data_shape": shape}
    return Node("binarizer", attrs, [("input", ins[0])], [("output", outs[0])])  # noqa: F821


def write_bucketizer(stage):
    if stage.p("inputCols"):
        raise Unwritable("MLeap's bucketizer is single-column")  # noqa: F821
    splits = [_p(s) for s in stage.p("splits")]
    attrs = {"splits": l_doubles(splits),  # noqa: F821  (±inf written as null)
             "handle_invalid": s_string(stage.p("handleInvalid", "error"))}  # noqa: F821
    ins, outs = _io(stage)
    return Node("bucketizer", attrs, ins, outs)  # noqa: F821


def write_idf(stage):
    idf = dense(stage.row()["idf"])  # noqa: F821
    ins, outs = _io(stage)
    return Node("idf", {"idf": t_doubles(idf, [len(idf)])}, ins, outs)  # noqa: F821


def write_naive_bayes(stage):
    row = stage.row()
    pi = dense(row["pi"])  # noqa: F821
    rows, cols, theta = column_major(row["theta"])  # noqa: F821
    model_type = stage.p("modelType", "multinomial")
    attrs = {"num_features": s_long(cols), "num_classes": s_long(rows),  # noqa: F821
             "pi": t_doubles(pi, [len(pi)]),  # noqa: F821
             "theta": t_doubles(theta, [rows, cols]),  # noqa: F821
             "model_type": s_string(model_type)}  # noqa: F821
    if model_type == "gaussian":
        r, c, sigma = column_major(row["sigma"])  # noqa: F821
        attrs["sigma"] = t_doubles(sigma, [r, c])  # noqa: F821
    if "thresholds" in stage.meta.get("paramMap", {}):
        attrs["thresholds"] = l_doubles(stage.p("thresholds"))  # noqa: F821
    return Node("naive_bayes", attrs, [("features", stage.p("featuresCol", "features"))],  # noqa: F821
                classifier_outputs(stage))  # noqa: F821


WRITERS = {
    "MinMaxScalerModel": write_min_max_scaler,
    "MaxAbsScalerModel": write_max_abs_scaler,
    "Normalizer": write_normalizer,
    "Binarizer": write_binarizer,
    "Bucketizer": write_bucketizer,
    "IDFModel": write_idf,
    "NaiveBayesModel": write_naive_bayes,
}

# mleap_bundle_writer execs this file with separate globals and locals: make the helpers above
# visible to the functions that call them
globals().update(dict(locals()))


def write_elementwise_product(stage):
    sv = stage.p("scalingVec")
    if sv["type"] == 1:
        w = list(sv["values"])
    else:
        w = [0.0] * sv["size"]
        for i, x in zip(sv["indices"], sv["values"]):
            w[i] = x
    ins, outs = _io(stage)
    return Node("elementwise_product", {"scaling_vec": t_doubles(w, [len(w)])},  # noqa: F821
                ins, outs)


def write_vector_slicer(stage):
    if stage.p("names"):
        raise Unwritable("VectorSlicer names need the input's attribute metadata")  # noqa: F821
    attrs = {"indices": l_longs(stage.p("indices", [])),  # noqa: F821
             "names": {"type": "list"}, "named_indices": {"type": "list"}}
    ins, outs = _io(stage)
    return Node("vector_slicer", attrs, ins, outs)  # noqa: F821


def write_polynomial_expansion(stage):
    ins, outs = _io(stage)
    return Node("polynomial_expansion", {"degree": s_long(stage.p("degree", 2))},  # noqa: F821
                ins, outs)


WRITERS.update({
    "ElementwiseProduct": write_elementwise_product,
    "VectorSlicer": write_vector_slicer,
    "PolynomialExpansion": write_polynomial_expansion,
})
globals().update(dict(locals()))
