"""MLeap writers for the tree models (loaded by mleap_bundle_writer.py, which provides Stage,
Node, Unwritable, the s_*/l_* value helpers and classifier_outputs).

Spark's saved trees (NodeData rows: id, prediction, impurityStats, leftChild, rightChild,
split{featureIndex, leftCategoriesOrThreshold, numCategories}) become MLeap's `tree.json`:
one JSON object per line in pre-order. A categorical split is written as MLeap's Spark
serializer writes it: the shorter category set with `isLeft` (Spark's CategoricalSplit keeps
the left categories when |left| <= numCategories / 2, else the right ones). Classification
leaves hold the class counts (impurity stats); regression leaves `[prediction]`. Ensembles
list their members in `trees` (tree0, tree1, ...) with `tree_weights`; each member directory
holds model.json (a decision_tree_* op) and tree.json.
"""
import glob as _glob
import json as _json
import os as _os

import pyarrow.parquet as _pq


def _tree_json(nodes, classification):
    by_id = {n["id"]: n for n in nodes}
    lines = []
    stack = [0]
    while stack:
        n = by_id[stack.pop()]
        if n["leftChild"] == -1:
            values = list(n["impurityStats"]) if classification else [n["prediction"]]
            lines.append({"type": "leaf", "values": values})
            continue
        s = n["split"]
        if s["numCategories"] == -1:
            split = {"type": "continuous", "featureIndex": s["featureIndex"],
                     "threshold": s["leftCategoriesOrThreshold"][0]}
        else:
            k = s["numCategories"]
            left = sorted(s["leftCategoriesOrThreshold"])
            is_left = len(left) <= k // 2
            cats = left if is_left else [float(c) for c in range(k) if float(c) not in left]
            split = {"type": "categorical", "featureIndex": s["featureIndex"], "isLeft": is_left,
                     "numCategories": k, "categories": cats}
        lines.append({"type": "internal", "split": split})
        stack.append(n["rightChild"])
        stack.append(n["leftChild"])
    return "".join(_json.dumps(line, allow_nan=False) + "\n" for line in lines)


def _reject_unsupported(stage):
    for p in ("leafCol", "varianceCol"):
        if stage.p(p):
            raise Unwritable(f"MLeap's tree ops have no {p}")


def _ensemble(stage, classification, member_op, member_attrs):
    """Attributes and files of an ensemble: trees, tree_weights and one treeN/ per member."""
    meta_files = sorted(_glob.glob(_os.path.join(stage.path, "treesMetadata", "*.parquet")))
    meta = sorted((r for f in meta_files for r in _pq.read_table(f).to_pylist()),
                  key=lambda r: r["treeID"])
    by_tree = {}
    for r in stage.rows:
        by_tree.setdefault(r["treeID"], []).append(r["nodeData"])
    names, files = [], {}
    for i, tree_id in enumerate(sorted(by_tree)):
        name = f"tree{i}"
        names.append(name)
        files[f"{name}/model.json"] = _json.dumps({"op": member_op, "attributes": member_attrs},
                                                 indent=2) + "\n"
        files[f"{name}/tree.json"] = _tree_json(by_tree[tree_id], classification)
    attrs = {"trees": l_strings(names), "tree_weights": l_doubles([r["weights"] for r in meta])}
    return attrs, files


def _classifier(op, ensemble):
    def write(stage):
        _reject_unsupported(stage)
        num_features = stage.meta["numFeatures"]
        num_classes = stage.meta.get("numClasses", 2)
        attrs = {"num_features": s_long(num_features), "num_classes": s_long(num_classes)}
        if stage.p("thresholds"):
            attrs["thresholds"] = l_doubles(stage.p("thresholds"))
        if ensemble is None:
            files = {"tree.json": _tree_json(stage.rows, True)}
        elif ensemble == "forest":
            more, files = _ensemble(stage, True, "decision_tree_classifier",
                                    {"num_features": s_long(num_features),
                                     "num_classes": s_long(num_classes)})
            attrs.update(more)
        else:
            more, files = _ensemble(stage, False, "decision_tree_regression",
                                    {"num_features": s_long(num_features)})
            attrs.update(more)
        return Node(op, attrs, [("features", stage.p("featuresCol", "features"))],
                    classifier_outputs(stage), files=files)
    return write


def _regressor(op, ensemble):
    def write(stage):
        _reject_unsupported(stage)
        num_features = stage.meta["numFeatures"]
        attrs = {"num_features": s_long(num_features)}
        if ensemble:
            more, files = _ensemble(stage, False, "decision_tree_regression",
                                    {"num_features": s_long(num_features)})
            attrs.update(more)
        else:
            files = {"tree.json": _tree_json(stage.rows, False)}
        pred = stage.p("predictionCol", "prediction")
        outs = [("prediction", pred)] if pred else []
        return Node(op, attrs, [("features", stage.p("featuresCol", "features"))], outs,
                    files=files)
    return write


WRITERS = {
    "DecisionTreeClassificationModel": _classifier("decision_tree_classifier", None),
    "RandomForestClassificationModel": _classifier("random_forest_classifier", "forest"),
    "GBTClassificationModel": _classifier("gbt_classifier", "boosted"),
    "DecisionTreeRegressionModel": _regressor("decision_tree_regression", False),
    "RandomForestRegressionModel": _regressor("random_forest_regression", True),
    "GBTRegressionModel": _regressor("gbt_regression", True),
}

# mleap_bundle_writer execs this file with separate globals and locals; the functions above
# look names up in the globals, so publish this module's names there
globals().update(locals())
