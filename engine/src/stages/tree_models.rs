//! Tree models: `DecisionTree{Classification,Regression}Model`,
//! `RandomForest{Classification,Regression}Model`, `GBT{Classification,Regression}Model`.
//!
//! One table ([`TREE_CLASSES`]) and one loader per format; a classifier becomes a
//! [`ClassifierStage`], a regressor a [`RegressorStage`] (the shared shells). The trees
//! themselves and the ensemble arithmetic live in `ember_udfs::tree`.
//!
//! Spark saves a tree as rows of `NodeData` (`id`, `prediction`, `impurityStats`, `leftChild`,
//! `rightChild`, `split {featureIndex, leftCategoriesOrThreshold, numCategories}`; ids in
//! pre-order, `leftChild = -1` for a leaf) under `data/`, with `numFeatures`/`numClasses` in
//! the metadata. Ensembles store `(treeID, nodeData)` rows under `data/` and
//! `(treeID, metadata, weights)` under `treesMetadata/`. MLeap stores `tree.json` (pre-order
//! JSON lines) in the node directory, or one `treeN/` directory per ensemble member.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, StructArray};
use arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use ember_udfs::tree::{Ensemble, NodeSpec, Split, Tree, TreeClassifier, TreeRegressor};
use serde_json::Value as Json;

use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode, read_model, read_tree};
use crate::formats::spark::SparkStageDir;
use crate::stage::Stage;
use crate::stages::classifier::{ClassifierColumns, ClassifierStage, spark_thresholds};
use crate::stages::regressor::{RegressorColumns, RegressorStage};
use crate::stages::{Origin, StageDecl};

/// One tree class: its Spark class, its MLeap op, the ensemble kind and the output shape.
#[derive(Debug, Clone, Copy)]
pub struct TreeClass {
    /// Spark's class name.
    pub class: &'static str,
    /// MLeap's op name.
    pub op: &'static str,
    /// Single tree, forest or boosted.
    pub kind: Ensemble,
    /// A classifier (probabilistic columns) rather than a regressor (one prediction).
    pub classifier: bool,
}

/// The six tree classes.
pub const TREE_CLASSES: [TreeClass; 6] = [
    TreeClass {
        class: "org.apache.spark.ml.classification.DecisionTreeClassificationModel",
        op: "decision_tree_classifier",
        kind: Ensemble::Single,
        classifier: true,
    },
    TreeClass {
        class: "org.apache.spark.ml.classification.RandomForestClassificationModel",
        op: "random_forest_classifier",
        kind: Ensemble::Forest,
        classifier: true,
    },
    TreeClass {
        class: "org.apache.spark.ml.classification.GBTClassificationModel",
        op: "gbt_classifier",
        kind: Ensemble::Boosted,
        classifier: true,
    },
    TreeClass {
        class: "org.apache.spark.ml.regression.DecisionTreeRegressionModel",
        op: "decision_tree_regression",
        kind: Ensemble::Single,
        classifier: false,
    },
    TreeClass {
        class: "org.apache.spark.ml.regression.RandomForestRegressionModel",
        op: "random_forest_regression",
        kind: Ensemble::Forest,
        classifier: false,
    },
    TreeClass {
        class: "org.apache.spark.ml.regression.GBTRegressionModel",
        op: "gbt_regression",
        kind: Ensemble::Boosted,
        classifier: false,
    },
];

const fn decl(t: TreeClass) -> StageDecl {
    StageDecl::spark(t.class, from_spark).mleap(t.op, from_mleap)
}

/// What loads this module's stages: every tree class, through one loader per format.
pub const DECL: &[StageDecl] = &[
    decl(TREE_CLASSES[0]),
    decl(TREE_CLASSES[1]),
    decl(TREE_CLASSES[2]),
    decl(TREE_CLASSES[3]),
    decl(TREE_CLASSES[4]),
    decl(TREE_CLASSES[5]),
];

fn tree_class(found: impl Fn(&TreeClass) -> bool) -> Option<TreeClass> {
    TREE_CLASSES.iter().copied().find(found)
}

/// Loads any Spark-saved tree model (the class in its metadata picks the kind).
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let t = tree_class(|t| t.class == dir.class)
        .ok_or_else(|| dir.param_error("class", "not a tree model class"))?;
    from_spark_as(dir, t)
}

/// Loads any MLeap tree op: `num_features`, and `tree.json` (single trees) or `trees` +
/// `tree_weights` with one `treeN/` per member (ensembles); classifiers also `num_classes`
/// (GBT: 2 when absent) and `thresholds`?, with class counts in the leaves.
pub fn from_mleap(node: &MleapNode, files: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    let t = tree_class(|t| t.op == node.op)
        .ok_or_else(|| node.error("op", "not a tree op"))?;
    from_mleap_as(node, files, t)
}

fn kind_name(kind: Ensemble) -> &'static str {
    match kind {
        Ensemble::Single => "decision tree",
        Ensemble::Forest => "random forest",
        Ensemble::Boosted => "gradient-boosted trees",
    }
}

// ------------------------------------------------------------------------------------------
// Spark directories

/// Typed access to the columns of Spark's `NodeData` struct rows.
struct NodeColumns<'a> {
    id: Vec<i64>,
    prediction: &'a [f64],
    stats: &'a arrow::array::ListArray,
    left: Vec<i64>,
    right: Vec<i64>,
    feature: Vec<i64>,
    cats: &'a arrow::array::ListArray,
    num_categories: Vec<i64>,
}

fn field<'a>(dir: &SparkStageDir, s: &'a StructArray, name: &str) -> Result<&'a dyn Array> {
    let c = s
        .column_by_name(name)
        .ok_or_else(|| dir.param_error("nodeData", format!("no '{name}' in the tree data")))?;
    if c.null_count() > 0 {
        return Err(dir.param_error("nodeData", format!("null '{name}' in the tree data")));
    }
    Ok(c.as_ref())
}

fn ints(dir: &SparkStageDir, a: &dyn Array, name: &str) -> Result<Vec<i64>> {
    match a.data_type() {
        DataType::Int32 => Ok(a
            .as_primitive::<Int32Type>()
            .values()
            .iter()
            .map(|v| i64::from(*v))
            .collect()),
        DataType::Int64 => Ok(a.as_primitive::<Int64Type>().values().to_vec()),
        t => Err(dir.param_error("nodeData", format!("'{name}' has type {t}"))),
    }
}

fn doubles<'a>(dir: &SparkStageDir, a: &'a dyn Array, name: &str) -> Result<&'a [f64]> {
    match a.data_type() {
        DataType::Float64 => Ok(a.as_primitive::<Float64Type>().values()),
        t => Err(dir.param_error("nodeData", format!("'{name}' has type {t}"))),
    }
}

fn double_list<'a>(
    dir: &SparkStageDir,
    a: &'a dyn Array,
    name: &str,
) -> Result<&'a arrow::array::ListArray> {
    match a.data_type() {
        DataType::List(item) if item.data_type() == &DataType::Float64 => Ok(a.as_list::<i32>()),
        t => Err(dir.param_error("nodeData", format!("'{name}' has type {t}"))),
    }
}

fn list_row(list: &arrow::array::ListArray, row: usize) -> Vec<f64> {
    list.value(row)
        .as_primitive::<Float64Type>()
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect()
}

impl<'a> NodeColumns<'a> {
    fn new(dir: &SparkStageDir, s: &'a StructArray) -> Result<Self> {
        let split = field(dir, s, "split")?;
        let DataType::Struct(_) = split.data_type() else {
            return Err(dir.param_error("nodeData", "'split' is not a struct"));
        };
        let split = split.as_struct();
        Ok(Self {
            id: ints(dir, field(dir, s, "id")?, "id")?,
            prediction: doubles(dir, field(dir, s, "prediction")?, "prediction")?,
            stats: double_list(dir, field(dir, s, "impurityStats")?, "impurityStats")?,
            left: ints(dir, field(dir, s, "leftChild")?, "leftChild")?,
            right: ints(dir, field(dir, s, "rightChild")?, "rightChild")?,
            feature: ints(dir, field(dir, split, "featureIndex")?, "featureIndex")?,
            cats: double_list(
                dir,
                field(dir, split, "leftCategoriesOrThreshold")?,
                "leftCategoriesOrThreshold",
            )?,
            num_categories: ints(dir, field(dir, split, "numCategories")?, "numCategories")?,
        })
    }

    /// The tree made of `rows` (Spark's `buildTreeFromNodes`: ids 0..n in pre-order).
    /// Classification leaves keep their impurity stats, regression leaves their prediction.
    fn tree(&self, dir: &SparkStageDir, rows: &[usize], classification: bool) -> Result<Tree> {
        let bad = |m: String| dir.param_error("nodeData", m);
        let mut by_id: Vec<Option<usize>> = vec![None; rows.len()];
        for &r in rows {
            let id = usize::try_from(self.id[r])
                .ok()
                .filter(|id| *id < rows.len())
                .ok_or_else(|| {
                    bad(format!(
                        "node id {} outside 0..{} (ids must number the nodes)",
                        self.id[r],
                        rows.len()
                    ))
                })?;
            if by_id[id].replace(r).is_some() {
                return Err(bad(format!("node id {id} appears twice")));
            }
        }
        let mut specs = Vec::with_capacity(rows.len());
        for (id, r) in by_id.iter().enumerate() {
            let r = r.ok_or_else(|| bad(format!("node id {id} missing")))?;
            let spec = if self.left[r] == -1 {
                NodeSpec::Leaf {
                    prediction: self.prediction[r],
                    values: if classification {
                        list_row(self.stats, r)
                    } else {
                        vec![self.prediction[r]]
                    },
                }
            } else {
                let child = |c: i64| {
                    usize::try_from(c).map_err(|_| bad(format!("node {id}: child id {c}")))
                };
                let feature = usize::try_from(self.feature[r])
                    .map_err(|_| bad(format!("node {id}: feature index {}", self.feature[r])))?;
                let values = list_row(self.cats, r);
                let split = if self.num_categories[r] == -1 {
                    let [threshold] = values[..] else {
                        return Err(bad(format!(
                            "node {id}: {} thresholds for a continuous split",
                            values.len()
                        )));
                    };
                    Split::Continuous { feature, threshold }
                } else {
                    let n = usize::try_from(self.num_categories[r]).map_err(|_| {
                        bad(format!(
                            "node {id}: numCategories {}",
                            self.num_categories[r]
                        ))
                    })?;
                    Split::from_left_categories(feature, &values, n)
                        .map_err(|m| bad(format!("node {id}: {m}")))?
                };
                NodeSpec::Internal {
                    split,
                    left: child(self.left[r])?,
                    right: child(self.right[r])?,
                }
            };
            specs.push(spec);
        }
        Tree::new(&specs).map_err(bad)
    }
}

fn metadata_count(dir: &SparkStageDir, name: &str) -> Result<Option<usize>> {
    match dir.metadata(name) {
        None | Some(Json::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(|n| Some(n as usize))
            .ok_or_else(|| dir.param_error(name, format!("expected a count, found {v}"))),
    }
}

/// Reads the trees (and their weights) of a Spark-saved tree model.
fn spark_trees(
    dir: &SparkStageDir,
    kind: Ensemble,
    classification: bool,
) -> Result<(Vec<Tree>, Vec<f64>)> {
    let data = dir.data()?;
    if kind == Ensemble::Single {
        let s = StructArray::from(data);
        let nodes = NodeColumns::new(dir, &s)?;
        let rows: Vec<usize> = (0..s.len()).collect();
        return Ok((vec![nodes.tree(dir, &rows, classification)?], vec![1.0]));
    }
    let tree_ids = data
        .column_by_name("treeID")
        .ok_or_else(|| dir.param_error("treeID", "missing from the model data"))?;
    let tree_ids = ints(dir, tree_ids.as_ref(), "treeID")?;
    let node_data = data
        .column_by_name("nodeData")
        .ok_or_else(|| dir.param_error("nodeData", "missing from the model data"))?;
    let DataType::Struct(_) = node_data.data_type() else {
        return Err(dir.param_error("nodeData", "not a struct"));
    };
    let nodes = NodeColumns::new(dir, node_data.as_struct())?;
    let mut rows_by_tree: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (row, id) in tree_ids.iter().enumerate() {
        rows_by_tree.entry(*id).or_default().push(row);
    }
    let weights = spark_tree_weights(dir)?;
    if weights.len() != rows_by_tree.len() {
        return Err(dir.param_error(
            "treesMetadata",
            format!(
                "{} tree weights for {} trees",
                weights.len(),
                rows_by_tree.len()
            ),
        ));
    }
    let trees = rows_by_tree
        .values()
        .map(|rows| nodes.tree(dir, rows, classification))
        .collect::<Result<Vec<_>>>()?;
    if let Some(n) = metadata_count(dir, "numTrees")?
        && n != trees.len()
    {
        return Err(dir.param_error(
            "numTrees",
            format!("{n} trees in the metadata, {} in the data", trees.len()),
        ));
    }
    Ok((trees, weights))
}

/// `treesMetadata/`: the tree weights, ordered by `treeID`.
fn spark_tree_weights(dir: &SparkStageDir) -> Result<Vec<f64>> {
    let meta: RecordBatch = dir.data_in("treesMetadata")?;
    let ids = meta
        .column_by_name("treeID")
        .ok_or_else(|| dir.param_error("treesMetadata", "no treeID column"))?;
    let ids = ints(dir, ids.as_ref(), "treeID")?;
    let weights = meta
        .column_by_name("weights")
        .ok_or_else(|| dir.param_error("treesMetadata", "no weights column"))?;
    if weights.null_count() > 0 {
        return Err(dir.param_error("treesMetadata", "null tree weight"));
    }
    let weights = doubles(dir, weights.as_ref(), "weights")?;
    let mut pairs: Vec<(i64, f64)> = ids.into_iter().zip(weights.iter().copied()).collect();
    pairs.sort_by_key(|(id, _)| *id);
    Ok(pairs.into_iter().map(|(_, w)| w).collect())
}

/// Rejects output params ember does not produce, rather than silently leaving columns out.
fn reject_unsupported_columns(dir: &SparkStageDir, params: &[&str]) -> Result<()> {
    for p in params {
        if dir.string(p)?.is_some_and(|v| !v.is_empty()) {
            return Err(dir.param_error(p, "is set, and ember does not produce this column"));
        }
    }
    Ok(())
}

fn spark_num_features(dir: &SparkStageDir) -> Result<usize> {
    metadata_count(dir, "numFeatures")?
        .ok_or_else(|| dir.param_error("numFeatures", "missing from the metadata"))
}

// ------------------------------------------------------------------------------------------
// MLeap bundles

/// A tree from MLeap's pre-order node list (`read_tree`). Classification leaves predict the
/// first class with the largest count (Spark's `ImpurityCalculator.predict`).
fn mleap_tree(node: &MleapNode, dir: &str, nodes: &[Json], classification: bool) -> Result<Tree> {
    let bad = |m: String| node.error("tree", format!("{dir}: {m}"));
    let mut specs: Vec<NodeSpec> = Vec::with_capacity(nodes.len());
    // internal nodes whose right child has not started yet, deepest last
    let mut awaiting_right: Vec<usize> = Vec::new();
    let mut previous_leaf = false;
    for (i, n) in nodes.iter().enumerate() {
        if i > 0 && previous_leaf {
            let parent = awaiting_right
                .pop()
                .ok_or_else(|| bad(format!("node {i} follows a complete tree")))?;
            if let NodeSpec::Internal { right, .. } = &mut specs[parent] {
                *right = i;
            }
        }
        let number = |v: &Json, what: &str| -> Result<f64> {
            match v {
                Json::Null => Ok(f64::NAN),
                Json::Number(x) => x
                    .as_f64()
                    .ok_or_else(|| bad(format!("node {i}: {what} {x}"))),
                other => Err(bad(format!("node {i}: {what} {other} is not a number"))),
            }
        };
        let numbers = |v: Option<&Json>, what: &str| -> Result<Vec<f64>> {
            match v {
                None => Ok(Vec::new()),
                Some(Json::Array(a)) => a.iter().map(|x| number(x, what)).collect(),
                Some(other) => Err(bad(format!("node {i}: {what} {other} is not a list"))),
            }
        };
        match n.get("type").and_then(Json::as_str) {
            Some("leaf") => {
                let values = numbers(n.get("values"), "values")?;
                let prediction = if classification {
                    ember_udfs::classifier::argmax(&values)
                } else {
                    *values
                        .first()
                        .ok_or_else(|| bad(format!("node {i}: leaf without values")))?
                };
                specs.push(NodeSpec::Leaf { prediction, values });
                previous_leaf = true;
            }
            Some("internal") => {
                let s = n
                    .get("split")
                    .ok_or_else(|| bad(format!("node {i}: internal node without a split")))?;
                let feature = s
                    .get("featureIndex")
                    .and_then(Json::as_u64)
                    .map(|f| f as usize)
                    .ok_or_else(|| bad(format!("node {i}: split without a featureIndex")))?;
                let split = match s.get("type").and_then(Json::as_str) {
                    Some("continuous") => Split::Continuous {
                        feature,
                        threshold: number(s.get("threshold").unwrap_or(&Json::Null), "threshold")?,
                    },
                    Some("categorical") => Split::Categorical {
                        feature,
                        is_left: s.get("isLeft").and_then(Json::as_bool).unwrap_or(false),
                        categories: numbers(s.get("categories"), "categories")?,
                    },
                    other => {
                        return Err(bad(format!("node {i}: unknown split type {other:?}")));
                    }
                };
                specs.push(NodeSpec::Internal {
                    split,
                    left: i + 1,
                    right: usize::MAX,
                });
                awaiting_right.push(i);
                previous_leaf = false;
            }
            other => return Err(bad(format!("node {i}: unknown node type {other:?}"))),
        }
    }
    if !awaiting_right.is_empty() || !previous_leaf {
        return Err(bad("the tree ends before all its nodes are complete".into()));
    }
    Tree::new(&specs).map_err(bad)
}

fn mleap_count(node: &MleapNode, name: &str) -> Result<Option<usize>> {
    node.opt_attr(name, Attributes::i64)?
        .map(|n| usize::try_from(n).map_err(|_| node.error(name, format!("negative: {n}"))))
        .transpose()
}

/// Reads the trees (and weights) of an MLeap tree op: `tree.json` in the node directory, or
/// the members listed in `trees` with `tree_weights`.
fn mleap_trees(
    node: &MleapNode,
    files: &dyn BundleFiles,
    kind: Ensemble,
    classification: bool,
) -> Result<(Vec<Tree>, Vec<f64>)> {
    if kind == Ensemble::Single {
        let nodes = read_tree(files, &node.path, &node.format)?;
        return Ok((
            vec![mleap_tree(node, &node.path, &nodes, classification)?],
            vec![1.0],
        ));
    }
    let names = node.attr("trees", Attributes::strings)?;
    let weights = node.attr("tree_weights", Attributes::f64s)?;
    let trees = names
        .iter()
        .map(|name| {
            if name.is_empty() || name.contains('/') || name.contains('\\') || name == ".." {
                return Err(node.error("trees", format!("invalid tree name '{name}'")));
            }
            let dir = format!("{}/{name}", node.path);
            // the member's model.json names its op (decision_tree_*); only its tree matters
            read_model(files, &dir, &node.format)?;
            let nodes = read_tree(files, &dir, &node.format)?;
            mleap_tree(node, &dir, &nodes, classification)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((trees, weights))
}

// ------------------------------------------------------------------------------------------
// the stages: a classifier or a regressor on the shared shells

fn classifier(
    at: &Origin,
    t: TreeClass,
    columns: ClassifierColumns,
    (num_features, num_classes): (usize, usize),
    (trees, weights): (Vec<Tree>, Vec<f64>),
    thresholds: Option<Vec<f64>>,
) -> Result<Arc<dyn Stage>> {
    // thresholds are checked by the classifier shell
    let model = TreeClassifier::new(t.kind, num_features, num_classes, trees, weights, thresholds)
        .map_err(|m| at.error("nodeData", m))?;
    let params = vec![
        ("model", kind_name(t.kind).to_string()),
        ("numTrees", model.num_trees().to_string()),
        ("numClasses", model.num_classes().to_string()),
        ("numFeatures", num_features.to_string()),
    ];
    ClassifierStage::boxed(at, t.class, columns, model, params)
}

fn regressor(
    at: &Origin,
    t: TreeClass,
    columns: RegressorColumns,
    num_features: usize,
    (trees, weights): (Vec<Tree>, Vec<f64>),
) -> Result<Arc<dyn Stage>> {
    let model = TreeRegressor::new(t.kind, num_features, trees, weights)
        .map_err(|m| at.error("nodeData", m))?;
    let params = vec![
        ("model", kind_name(t.kind).to_string()),
        ("numTrees", model.num_trees().to_string()),
        ("numFeatures", num_features.to_string()),
    ];
    Ok(RegressorStage::boxed(at, t.class, columns, model, params))
}

fn from_spark_as(dir: &SparkStageDir, t: TreeClass) -> Result<Arc<dyn Stage>> {
    let at = Origin::from(dir);
    let num_features = spark_num_features(dir)?;
    if !t.classifier {
        reject_unsupported_columns(dir, &["leafCol", "varianceCol"])?;
        let trees = spark_trees(dir, t.kind, false)?;
        return regressor(
            &at,
            t,
            RegressorColumns::from_spark(dir)?,
            num_features,
            trees,
        );
    }
    reject_unsupported_columns(dir, &["leafCol"])?;
    let num_classes = match t.kind {
        Ensemble::Boosted => metadata_count(dir, "numClasses")?.unwrap_or(2),
        _ => metadata_count(dir, "numClasses")?
            .ok_or_else(|| dir.param_error("numClasses", "missing from the metadata"))?,
    };
    if t.kind == Ensemble::Boosted
        && let Some(loss) = dir.string("lossType")?
        && !loss.eq_ignore_ascii_case("logistic")
    {
        return Err(dir.param_error("lossType", format!("'{loss}' (expected logistic)")));
    }
    let trees = spark_trees(dir, t.kind, t.kind != Ensemble::Boosted)?;
    classifier(
        &at,
        t,
        ClassifierColumns::from_spark(dir)?,
        (num_features, num_classes),
        trees,
        spark_thresholds(dir)?,
    )
}

fn from_mleap_as(node: &MleapNode, files: &dyn BundleFiles, t: TreeClass) -> Result<Arc<dyn Stage>> {
    let at = Origin::from(node);
    let num_features =
        mleap_count(node, "num_features")?.ok_or_else(|| node.error("num_features", "missing"))?;
    if !t.classifier {
        let trees = mleap_trees(node, files, t.kind, false)?;
        return regressor(
            &at,
            t,
            RegressorColumns::from_mleap(node)?,
            num_features,
            trees,
        );
    }
    let columns = ClassifierColumns::from_mleap(node)?;
    let num_classes = match (t.kind, mleap_count(node, "num_classes")?) {
        (Ensemble::Boosted, n) => n.unwrap_or(2),
        (_, Some(n)) => n,
        (_, None) => return Err(node.error("num_classes", "missing")),
    };
    let thresholds = node.opt_attr("thresholds", Attributes::f64s)?;
    let trees = mleap_trees(node, files, t.kind, t.kind != Ensemble::Boosted)?;
    classifier(
        &at,
        t,
        columns,
        (num_features, num_classes),
        trees,
        thresholds,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ember_udfs::vector::VectorRef;
    use serde_json::json;

    fn node() -> MleapNode {
        MleapNode {
            path: "root/t.node".into(),
            name: "t".into(),
            op: "decision_tree_regression".into(),
            attributes: Attributes::default(),
            inputs: vec![],
            outputs: vec![],
            version: "test".into(),
            format: "json".into(),
        }
    }

    fn leaf(v: f64) -> Json {
        json!({"type": "leaf", "values": [v]})
    }

    #[test]
    fn mleap_pre_order_lines_become_a_tree() {
        // x0 <= 1 ? 10 : (x1 in {2} (isLeft) ? 20 : 30)
        let lines = vec![
            json!({"type": "internal", "split": {"type": "continuous", "featureIndex": 0, "threshold": 1.0}}),
            leaf(10.0),
            json!({"type": "internal", "split": {"type": "categorical", "featureIndex": 1,
                   "isLeft": true, "numCategories": 3, "categories": [2.0]}}),
            leaf(20.0),
            leaf(30.0),
        ];
        let tree = mleap_tree(&node(), "root/t.node", &lines, false).unwrap();
        let at = |x: &[f64]| tree.predict(&VectorRef::Dense(x));
        assert_eq!(at(&[0.5, 2.0]), 10.0);
        assert_eq!(at(&[1.5, 2.0]), 20.0);
        assert_eq!(at(&[1.5, 1.0]), 30.0);
    }

    #[test]
    fn malformed_mleap_trees_are_errors() {
        let internal = json!({"type": "internal",
            "split": {"type": "continuous", "featureIndex": 0, "threshold": 1.0}});
        let cases = [
            vec![internal.clone(), leaf(1.0)],           // right child missing
            vec![leaf(1.0), leaf(2.0)],                  // a node after a complete tree
            vec![internal.clone()],                      // no leaves
            vec![json!({"type": "branch"})],             // unknown node type
            vec![json!({"type": "leaf", "values": []})], // regression leaf without a value
        ];
        for lines in cases {
            assert!(
                mleap_tree(&node(), "root/t.node", &lines, false).is_err(),
                "{lines:?}"
            );
        }
    }
}
