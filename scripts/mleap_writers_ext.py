"""MLeap writers for the stages behind MLeap's extension ops (exec'd by mleap_bundle_writer.py,
which provides Node, Unwritable and the s_*/l_*/t_* value helpers).

ImputerModel -> `imputer` (single column only: MLeap's op has one input port). MLeap's imputer
treats NaN as missing whatever `missing_value` is, while Spark keeps NaN when missingValue is set
to something else, so only models with the default missingValue (NaN) are written.
LinearSVCModel -> `linear_svc`.
"""
import math


def write_imputer(stage):
    if stage.p("inputCols") and len(stage.p("inputCols")) != 1:
        raise Unwritable("MLeap's imputer is single-column")
    ins, outs = single_or_multi(stage)
    missing = float(stage.p("missingValue", float("nan")))
    if not math.isnan(missing):
        raise Unwritable("MLeap's imputer also imputes NaN; Spark keeps NaN when missingValue is set")
    row = stage.row()
    attrs = {"surrogate_value": s_double(row[ins[0]]), "missing_value": s_double(missing),
             "strategy": s_string(stage.p("strategy", "mean")), "nullable_input": s_bool(True)}
    return Node("imputer", attrs, [("input", ins[0])], [("output", outs[0])])


def write_linear_svc(stage):
    row = stage.row()
    coef = dense(row["coefficients"])
    attrs = {"num_classes": s_long(2), "coefficients": t_doubles(coef, [len(coef)]),
             "intercept": s_double(row["intercept"]),
             "threshold": s_double(stage.p("threshold", 0.0))}
    outs = [(port, stage.p(param)) for port, param in
            [("raw_prediction", "rawPredictionCol"), ("prediction", "predictionCol")] if stage.p(param)]
    return Node("linear_svc", attrs, [("features", stage.p("featuresCol", "features"))], outs)


WRITERS = {
    "ImputerModel": write_imputer,
    "LinearSVCModel": write_linear_svc,
}
