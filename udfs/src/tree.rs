//! Decision trees and tree ensembles (Spark's `DecisionTree*Model`, `RandomForest*Model`,
//! `GBT*Model`): a compact tree, its evaluation over a feature vector, and the ensemble
//! aggregation Spark applies.
//!
//! A [`Tree`] is a flat array of 24-byte nodes in pre-order (children after their parent),
//! leaf values in one flat buffer, and category sets as bitsets. Splits follow Spark's
//! `Split.shouldGoLeft`: continuous `x[f] <= threshold` goes left (NaN goes right);
//! categorical keeps Spark's `CategoricalSplit` representation, the shorter of the left/right
//! category sets plus `isLeft`, because a value outside `[0, numCategories)` (or a fraction, or
//! NaN) is in neither set and so goes right when `isLeft` and left otherwise.
//!
//! Aggregation, as Spark computes it:
//! * decision tree classifier: raw = the leaf's impurity stats (class counts), probability =
//!   raw / sum(raw), `predict` = the leaf's stored prediction;
//! * random forest classifier: raw = Σ over trees of stats / sum(stats) (a tree whose stats sum
//!   to 0 adds nothing), probability = raw / sum(raw);
//! * GBT classifier: margin `m = Σ wᵢ·treeᵢ`, raw = `[-m, m]`, `p0 = 1 / (1 + exp(-2·raw0))`,
//!   `p1 = 1 - p0`, `predict` = `m > 0` unless `thresholds` are set;
//! * regression: decision tree = the leaf's prediction, random forest = Σ treeᵢ / n (tree
//!   weights ignored, as Spark does), GBT = Σ wᵢ·treeᵢ.
//!
//! Prediction from the raw or probability column, and `thresholds`, are the shared
//! probabilistic-classifier rules ([`crate::classifier`]).
//!
//! # Null Handling
//! A null features vector fails (Spark's UDF dereferences it), as does a vector whose size
//! differs from the model's `numFeatures` (Spark would read out of range or ignore the rest).

use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;

use crate::classifier::{ProbabilisticClassifier, normalize_to_probabilities};
use crate::common::hash_f64s;
use crate::regressor::{Regressor, RegressorUdf};
use crate::vector::VectorRef;

/// Largest category value a categorical split may name (bitset size bound).
pub const MAX_CATEGORY: usize = 1 << 20;

/// How an internal node chooses between its children.
#[derive(Debug, Clone, PartialEq)]
pub enum Split {
    /// `x[feature] <= threshold` goes left.
    Continuous {
        /// Feature index.
        feature: usize,
        /// Upper bound (inclusive) of the left side.
        threshold: f64,
    },
    /// Spark's `CategoricalSplit`: `x[feature] ∈ categories` goes left when `is_left`, and
    /// `x[feature] ∉ categories` goes left otherwise.
    Categorical {
        /// Feature index.
        feature: usize,
        /// Whether `categories` are the left categories.
        is_left: bool,
        /// Category values (non-negative integers).
        categories: Vec<f64>,
    },
}

impl Split {
    /// Spark's `CategoricalSplit(featureIndex, leftCategories, numCategories)` as saved by
    /// `PipelineModel.save()`: `isLeft = |left| <= numCategories / 2`, and the kept set is the
    /// left categories, or their complement in `[0, numCategories)`.
    pub fn from_left_categories(
        feature: usize,
        left: &[f64],
        num_categories: usize,
    ) -> std::result::Result<Self, String> {
        if let Some(c) = left
            .iter()
            .find(|c| !(**c >= 0.0 && **c < num_categories as f64))
        {
            return Err(format!(
                "Invalid leftCategories (should be in range [0, {num_categories})): {c}"
            ));
        }
        let is_left = left.len() <= num_categories / 2;
        let categories = if is_left {
            left.to_vec()
        } else {
            (0..num_categories)
                .map(|c| c as f64)
                .filter(|c| !left.contains(c))
                .collect()
        };
        Ok(Split::Categorical {
            feature,
            is_left,
            categories,
        })
    }

    fn feature(&self) -> usize {
        match self {
            Split::Continuous { feature, .. } | Split::Categorical { feature, .. } => *feature,
        }
    }
}

/// One node of a tree as a loader describes it; [`Tree::new`] compiles a list of them.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeSpec {
    /// A split with the positions of its children in the node list.
    Internal {
        /// The split.
        split: Split,
        /// Position of the left child (after this node).
        left: usize,
        /// Position of the right child (after this node).
        right: usize,
    },
    /// A leaf.
    Leaf {
        /// The leaf's stored prediction (Spark's `node.prediction`).
        prediction: f64,
        /// The leaf's values: class counts (impurity stats) for classification trees, `[prediction]`
        /// for regression trees.
        values: Vec<f64>,
    },
}

const LEAF: u32 = u32::MAX;
const CONTINUOUS: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Node {
    /// Continuous threshold (unused for categorical and leaf nodes).
    threshold: f64,
    feature: u32,
    /// Left child, or [`LEAF`].
    left: u32,
    /// Right child; for a leaf, the leaf's index.
    right: u32,
    /// [`CONTINUOUS`], or the index of the category set.
    set: u32,
}

#[derive(Debug, Clone)]
struct CategorySet {
    is_left: bool,
    bits: Vec<u64>,
}

impl CategorySet {
    /// Scala's `Set[Double].contains`: numeric equality with one of the (integer) categories.
    #[inline]
    fn contains(&self, x: f64) -> bool {
        if x.is_nan() || x < 0.0 || x.fract() != 0.0 || x >= (self.bits.len() * 64) as f64 {
            return false;
        }
        let i = x as usize;
        self.bits[i / 64] >> (i % 64) & 1 == 1
    }
}

/// A compiled decision tree.
#[derive(Debug, Clone)]
pub struct Tree {
    nodes: Vec<Node>,
    sets: Vec<CategorySet>,
    width: usize,
    leaf_values: Vec<f64>,
    leaf_predictions: Vec<f64>,
    max_feature: Option<usize>,
}

impl Tree {
    /// Compiles `nodes` (root first; every child after its parent). Errors describe a malformed
    /// tree: dangling or backward child positions, leaves of different widths, categories that
    /// are not non-negative integers.
    pub fn new(nodes: &[NodeSpec]) -> std::result::Result<Self, String> {
        if nodes.is_empty() {
            return Err("a tree without nodes".into());
        }
        if nodes.len() >= LEAF as usize {
            return Err("too many nodes".into());
        }
        let mut tree = Tree {
            nodes: Vec::with_capacity(nodes.len()),
            sets: Vec::new(),
            width: 0,
            leaf_values: Vec::new(),
            leaf_predictions: Vec::new(),
            max_feature: None,
        };
        let mut width = None;
        for (i, spec) in nodes.iter().enumerate() {
            let node = match spec {
                NodeSpec::Leaf { prediction, values } => {
                    if *width.get_or_insert(values.len()) != values.len() {
                        return Err(format!(
                            "node {i}: leaf with {} values, others have {}",
                            values.len(),
                            width.unwrap_or_default()
                        ));
                    }
                    tree.leaf_values.extend_from_slice(values);
                    tree.leaf_predictions.push(*prediction);
                    Node {
                        threshold: 0.0,
                        feature: 0,
                        left: LEAF,
                        right: (tree.leaf_predictions.len() - 1) as u32,
                        set: CONTINUOUS,
                    }
                }
                NodeSpec::Internal { split, left, right } => {
                    for child in [*left, *right] {
                        if child <= i || child >= nodes.len() {
                            return Err(format!(
                                "node {i}: child {child} is not a later node of the {}-node tree",
                                nodes.len()
                            ));
                        }
                    }
                    let feature = split.feature();
                    let feature_u32 = u32::try_from(feature)
                        .map_err(|_| format!("node {i}: feature index {feature} too large"))?;
                    tree.max_feature = Some(tree.max_feature.map_or(feature, |m| m.max(feature)));
                    let (threshold, set) = match split {
                        Split::Continuous { threshold, .. } => (*threshold, CONTINUOUS),
                        Split::Categorical {
                            is_left,
                            categories,
                            ..
                        } => {
                            let mut bits = Vec::new();
                            for c in categories {
                                if !(*c >= 0.0 && c.fract() == 0.0 && *c < MAX_CATEGORY as f64) {
                                    return Err(format!(
                                        "node {i}: category {c} is not a non-negative integer"
                                    ));
                                }
                                let c = *c as usize;
                                if bits.len() <= c / 64 {
                                    bits.resize(c / 64 + 1, 0u64);
                                }
                                bits[c / 64] |= 1 << (c % 64);
                            }
                            tree.sets.push(CategorySet {
                                is_left: *is_left,
                                bits,
                            });
                            (0.0, (tree.sets.len() - 1) as u32)
                        }
                    };
                    Node {
                        threshold,
                        feature: feature_u32,
                        left: *left as u32,
                        right: *right as u32,
                        set,
                    }
                }
            };
            tree.nodes.push(node);
        }
        tree.width = width.ok_or("a tree without leaves")?;
        Ok(tree)
    }

    /// Number of values per leaf.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Number of nodes.
    pub fn num_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// The largest feature index any split reads (None for a single leaf).
    pub fn max_feature(&self) -> Option<usize> {
        self.max_feature
    }

    /// The leaf `x` falls into (Spark's `rootNode.predictImpl`). Every feature index the tree
    /// reads must be below `x.size()`.
    #[inline]
    pub fn leaf(&self, x: &VectorRef<'_>) -> usize {
        let mut i = 0usize;
        loop {
            let n = &self.nodes[i];
            if n.left == LEAF {
                return n.right as usize;
            }
            let v = x.get(n.feature as usize);
            let left = if n.set == CONTINUOUS {
                v <= n.threshold
            } else {
                let s = &self.sets[n.set as usize];
                s.contains(v) == s.is_left
            };
            i = if left { n.left } else { n.right } as usize;
        }
    }

    /// The values of leaf `leaf`.
    #[inline]
    pub fn leaf_values(&self, leaf: usize) -> &[f64] {
        &self.leaf_values[leaf * self.width..(leaf + 1) * self.width]
    }

    /// The stored prediction of the leaf `x` falls into.
    #[inline]
    pub fn predict(&self, x: &VectorRef<'_>) -> f64 {
        self.leaf_predictions[self.leaf(x)]
    }

    fn hash_into(&self, h: &mut DefaultHasher) {
        self.width.hash(h);
        for n in &self.nodes {
            (n.feature, n.left, n.right, n.set).hash(h);
            n.threshold.to_bits().hash(h);
        }
        for s in &self.sets {
            s.is_left.hash(h);
            s.bits.hash(h);
        }
        hash_f64s(h, &self.leaf_values);
        hash_f64s(h, &self.leaf_predictions);
    }
}

/// How a model combines its trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ensemble {
    /// One decision tree.
    Single,
    /// A random forest.
    Forest,
    /// Gradient-boosted trees.
    Boosted,
}

fn check_trees(
    kind: Ensemble,
    num_features: usize,
    trees: &[Tree],
    weights: &[f64],
) -> std::result::Result<(), String> {
    if trees.is_empty() {
        return Err("the model has no trees".into());
    }
    if kind == Ensemble::Single && trees.len() != 1 {
        return Err(format!("a decision tree model with {} trees", trees.len()));
    }
    if weights.len() != trees.len() {
        return Err(format!(
            "{} tree weights for {} trees",
            weights.len(),
            trees.len()
        ));
    }
    for (i, t) in trees.iter().enumerate() {
        if let Some(f) = t.max_feature()
            && f >= num_features
        {
            return Err(format!(
                "tree {i} splits on feature {f}, but the model has {num_features} features"
            ));
        }
    }
    Ok(())
}

/// Spark's BLAS `ddot` of tree predictions and weights, summed in tree order.
#[inline]
fn weighted_sum(trees: &[Tree], weights: &[f64], x: &VectorRef<'_>) -> f64 {
    trees
        .iter()
        .zip(weights)
        .map(|(t, w)| t.predict(x) * w)
        .fold(0.0, |a, b| a + b)
}

/// A tree classifier: `DecisionTreeClassificationModel`, `RandomForestClassificationModel` or
/// `GBTClassificationModel`.
#[derive(Debug, Clone)]
pub struct TreeClassifier {
    kind: Ensemble,
    num_features: usize,
    num_classes: usize,
    trees: Vec<Tree>,
    weights: Vec<f64>,
    thresholds: Option<Vec<f64>>,
}

impl TreeClassifier {
    /// A classifier over `trees`. Decision-tree and forest leaves hold `num_classes` class
    /// counts; GBT trees are regression trees (one value per leaf) and `num_classes` is 2.
    /// `thresholds` are checked against the classes by the engine's classifier shell.
    pub fn new(
        kind: Ensemble,
        num_features: usize,
        num_classes: usize,
        mut trees: Vec<Tree>,
        weights: Vec<f64>,
        thresholds: Option<Vec<f64>>,
    ) -> std::result::Result<Self, String> {
        check_trees(kind, num_features, &trees, &weights)?;
        let width = if kind == Ensemble::Boosted {
            if num_classes != 2 {
                return Err(format!(
                    "GBT classification is binary, the model has {num_classes} classes"
                ));
            }
            1
        } else {
            num_classes
        };
        if let Some(i) = trees.iter().position(|t| t.width() != width) {
            return Err(format!(
                "tree {i} has {} values per leaf, expected {width}",
                trees[i].width()
            ));
        }
        if kind == Ensemble::Forest {
            // each tree votes with its normalized leaf counts (`counts(i) / counts.sum`), which
            // do not depend on the row: computed once here
            for t in &mut trees {
                for leaf in t.leaf_values.chunks_mut(width.max(1)) {
                    let total: f64 = leaf.iter().sum();
                    if total != 0.0 {
                        leaf.iter_mut().for_each(|v| *v /= total);
                    } else {
                        leaf.fill(0.0);
                    }
                }
            }
        }
        Ok(Self {
            kind,
            num_features,
            num_classes,
            trees,
            weights,
            thresholds,
        })
    }

    /// The ensemble kind.
    pub fn kind(&self) -> Ensemble {
        self.kind
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Number of trees.
    pub fn num_trees(&self) -> usize {
        self.trees.len()
    }

    fn margin(&self, x: &VectorRef<'_>) -> f64 {
        weighted_sum(&self.trees, &self.weights, x)
    }
}

impl ProbabilisticClassifier for TreeClassifier {
    fn num_features(&self) -> usize {
        self.num_features
    }

    fn output_size(&self) -> usize {
        self.num_classes
    }

    fn thresholds(&self) -> Option<&[f64]> {
        self.thresholds.as_deref()
    }

    fn predict_raw(&self, x: &VectorRef<'_>, out: &mut [f64]) -> std::result::Result<(), String> {
        match self.kind {
            Ensemble::Single => {
                let t = &self.trees[0];
                out.copy_from_slice(t.leaf_values(t.leaf(x)));
            }
            Ensemble::Forest => {
                out.fill(0.0);
                for t in &self.trees {
                    for (o, v) in out.iter_mut().zip(t.leaf_values(t.leaf(x))) {
                        *o += v;
                    }
                }
            }
            Ensemble::Boosted => {
                let m = self.margin(x);
                out[0] = -m;
                out[1] = m;
            }
        }
        Ok(())
    }

    fn raw_to_probability(&self, raw: &mut [f64]) -> std::result::Result<(), String> {
        match self.kind {
            Ensemble::Boosted => {
                // LogLoss.computeProbability(-m) = 1 / (1 + exp(-2 * -m))
                raw[0] = 1.0 / (1.0 + (-2.0 * raw[0]).exp());
                raw[1] = 1.0 - raw[0];
                Ok(())
            }
            _ => normalize_to_probabilities(raw),
        }
    }

    fn predict(&self, x: &VectorRef<'_>, scratch: &mut [f64]) -> std::result::Result<f64, String> {
        match self.kind {
            // DecisionTreeClassificationModel.predict: the leaf's stored prediction
            Ensemble::Single => Ok(self.trees[0].predict(x)),
            Ensemble::Boosted if self.thresholds.is_none() => {
                Ok(if self.margin(x) > 0.0 { 1.0 } else { 0.0 })
            }
            _ => {
                self.predict_raw(x, scratch)?;
                self.raw_to_prediction(scratch)
            }
        }
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        (self.kind, self.num_features, self.num_classes).hash(h);
        hash_f64s(h, &self.weights);
        hash_f64s(h, self.thresholds.as_deref().unwrap_or(&[]));
        self.thresholds.is_some().hash(h);
        for t in &self.trees {
            t.hash_into(h);
        }
    }
}

/// A tree regressor: `DecisionTreeRegressionModel`, `RandomForestRegressionModel` or
/// `GBTRegressionModel`.
#[derive(Debug, Clone)]
pub struct TreeRegressor {
    kind: Ensemble,
    num_features: usize,
    trees: Vec<Tree>,
    weights: Vec<f64>,
}

impl TreeRegressor {
    /// A regressor over `trees` (their leaf predictions are used).
    pub fn new(
        kind: Ensemble,
        num_features: usize,
        trees: Vec<Tree>,
        weights: Vec<f64>,
    ) -> std::result::Result<Self, String> {
        check_trees(kind, num_features, &trees, &weights)?;
        Ok(Self {
            kind,
            num_features,
            trees,
            weights,
        })
    }

    /// Number of features.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// The ensemble kind.
    pub fn kind(&self) -> Ensemble {
        self.kind
    }

    /// Number of trees.
    pub fn num_trees(&self) -> usize {
        self.trees.len()
    }

    /// Spark's `predict(features)`.
    #[inline]
    pub fn predict(&self, x: &VectorRef<'_>) -> f64 {
        match self.kind {
            Ensemble::Single => self.trees[0].predict(x),
            Ensemble::Forest => {
                let mut sum = 0.0;
                for t in &self.trees {
                    sum += t.predict(x);
                }
                sum / self.trees.len() as f64
            }
            Ensemble::Boosted => weighted_sum(&self.trees, &self.weights, x),
        }
    }
}

impl Regressor for TreeRegressor {
    fn num_features(&self) -> usize {
        self.num_features
    }

    fn predict(&self, x: &VectorRef<'_>) -> f64 {
        TreeRegressor::predict(self, x)
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        (self.kind, self.num_features).hash(h);
        hash_f64s(h, &self.weights);
        for t in &self.trees {
            t.hash_into(h);
        }
    }
}

/// A tree regressor's prediction: `vector → double`.
pub type TreeRegressorUdf = RegressorUdf<TreeRegressor>;

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(prediction: f64, values: &[f64]) -> NodeSpec {
        NodeSpec::Leaf {
            prediction,
            values: values.to_vec(),
        }
    }

    fn cont(feature: usize, threshold: f64, left: usize, right: usize) -> NodeSpec {
        NodeSpec::Internal {
            split: Split::Continuous { feature, threshold },
            left,
            right,
        }
    }

    /// x0 <= 1.5 ? (x1 in {0, 2} of 4 categories ? A : B) : C
    fn small_tree() -> Tree {
        Tree::new(&[
            cont(0, 1.5, 1, 4),
            NodeSpec::Internal {
                split: Split::from_left_categories(1, &[0.0, 2.0], 4).unwrap(),
                left: 2,
                right: 3,
            },
            leaf(0.0, &[3.0, 1.0]),
            leaf(1.0, &[1.0, 4.0]),
            leaf(1.0, &[0.0, 2.0]),
        ])
        .unwrap()
    }

    #[test]
    fn continuous_and_categorical_routing() {
        let t = small_tree();
        let at = |x: &[f64]| t.leaf(&VectorRef::Dense(x));
        assert_eq!(at(&[1.5, 0.0]), 0); // <= threshold goes left
        assert_eq!(at(&[1.5, 2.0]), 0);
        assert_eq!(at(&[1.0, 1.0]), 1);
        assert_eq!(at(&[1.6, 0.0]), 2);
        assert_eq!(at(&[f64::NAN, 0.0]), 2); // NaN goes right
        // left set {0, 2} of 4 is kept as is (isLeft): anything else goes right
        assert_eq!(at(&[0.0, 7.0]), 1);
        assert_eq!(at(&[0.0, -0.0]), 0); // -0.0 == 0.0
        assert_eq!(at(&[0.0, 2.5]), 1);
        let sparse = VectorRef::Sparse {
            size: 2,
            indices: &[1],
            values: &[3.0],
        };
        assert_eq!(t.leaf(&sparse), 1);
    }

    #[test]
    fn complement_categories_send_unknown_values_left() {
        // left {0, 1, 3} of 4: isLeft is false, Spark keeps the right set {2}
        let split = Split::from_left_categories(0, &[0.0, 1.0, 3.0], 4).unwrap();
        assert_eq!(
            split,
            Split::Categorical {
                feature: 0,
                is_left: false,
                categories: vec![2.0]
            }
        );
        let t = Tree::new(&[
            NodeSpec::Internal {
                split,
                left: 1,
                right: 2,
            },
            leaf(0.0, &[1.0]),
            leaf(1.0, &[2.0]),
        ])
        .unwrap();
        let at = |x: f64| t.predict(&VectorRef::Dense(&[x]));
        assert_eq!(at(1.0), 0.0);
        assert_eq!(at(2.0), 1.0);
        assert_eq!(at(9.0), 0.0); // in neither set: not in {2}, so left
        assert_eq!(at(f64::NAN), 0.0);
        assert!(Split::from_left_categories(0, &[4.0], 4).is_err());
    }

    #[test]
    fn malformed_trees_are_errors() {
        assert!(Tree::new(&[]).is_err());
        assert!(Tree::new(&[cont(0, 1.0, 0, 1), leaf(0.0, &[1.0])]).is_err());
        assert!(Tree::new(&[cont(0, 1.0, 1, 5), leaf(0.0, &[1.0])]).is_err());
        assert!(
            Tree::new(&[
                cont(0, 1.0, 1, 2),
                leaf(0.0, &[1.0]),
                leaf(0.0, &[1.0, 2.0])
            ])
            .is_err()
        );
        let bad_category = NodeSpec::Internal {
            split: Split::Categorical {
                feature: 0,
                is_left: true,
                categories: vec![1.5],
            },
            left: 1,
            right: 2,
        };
        assert!(Tree::new(&[bad_category, leaf(0.0, &[1.0]), leaf(0.0, &[1.0])]).is_err());
        // a split on a feature the model does not have
        let t = small_tree();
        assert!(TreeRegressor::new(Ensemble::Single, 1, vec![t], vec![1.0]).is_err());
    }

    #[test]
    fn decision_tree_classifier() {
        let m = TreeClassifier::new(Ensemble::Single, 2, 2, vec![small_tree()], vec![1.0], None)
            .unwrap();
        let x = VectorRef::Dense(&[1.0, 1.0]);
        let mut raw = [0.0; 2];
        m.predict_raw(&x, &mut raw).unwrap();
        assert_eq!(raw, [1.0, 4.0]);
        let mut p = raw;
        m.raw_to_probability(&mut p).unwrap();
        assert_eq!(p, [1.0 / 5.0, 4.0 / 5.0]);
        assert_eq!(m.predict(&x, &mut [0.0; 2]), Ok(1.0));
        assert_eq!(m.raw_to_prediction(&mut raw), Ok(1.0));
    }

    #[test]
    fn forest_classifier_normalizes_each_tree() {
        let t2 = Tree::new(&[leaf(0.0, &[6.0, 2.0])]).unwrap();
        let m = TreeClassifier::new(
            Ensemble::Forest,
            2,
            2,
            vec![small_tree(), t2],
            vec![1.0, 1.0],
            Some(vec![0.1, 1.0]),
        )
        .unwrap();
        let x = VectorRef::Dense(&[0.0, 0.0]);
        let mut raw = [0.0; 2];
        m.predict_raw(&x, &mut raw).unwrap();
        assert_eq!(
            raw,
            [0.0 + 3.0 / 4.0 + 6.0 / 8.0, 0.0 + 1.0 / 4.0 + 2.0 / 8.0]
        );
        let mut p = raw;
        m.raw_to_probability(&mut p).unwrap();
        assert_eq!(p, [1.5 / 2.0, 0.5 / 2.0]);
        // thresholds: 0.75 / 0.1 beats 0.25 / 1.0
        assert_eq!(m.predict(&x, &mut [0.0; 2]), Ok(0.0));
    }

    #[test]
    fn gbt_classifier_and_regressors() {
        let a = Tree::new(&[cont(0, 0.0, 1, 2), leaf(-1.0, &[-1.0]), leaf(1.0, &[1.0])]).unwrap();
        let b = Tree::new(&[leaf(0.5, &[0.5])]).unwrap();
        let weights = vec![1.0, 0.1];
        let m = TreeClassifier::new(
            Ensemble::Boosted,
            1,
            2,
            vec![a.clone(), b.clone()],
            weights.clone(),
            None,
        )
        .unwrap();
        let x = VectorRef::Dense(&[-3.0]);
        let margin = -1.0 + 0.5 * 0.1;
        let mut raw = [0.0; 2];
        m.predict_raw(&x, &mut raw).unwrap();
        assert_eq!(raw, [-margin, margin]);
        let mut p = raw;
        m.raw_to_probability(&mut p).unwrap();
        let p0 = 1.0 / (1.0 + (-2.0 * -margin).exp());
        assert_eq!(p, [p0, 1.0 - p0]);
        assert_eq!(m.predict(&x, &mut [0.0; 2]), Ok(0.0));
        assert!(
            TreeClassifier::new(Ensemble::Boosted, 1, 3, vec![b.clone()], vec![1.0], None).is_err()
        );

        let gbt =
            TreeRegressor::new(Ensemble::Boosted, 1, vec![a.clone(), b.clone()], weights).unwrap();
        assert_eq!(gbt.predict(&x), margin);
        let rf = TreeRegressor::new(Ensemble::Forest, 1, vec![a, b], vec![1.0, 1.0]).unwrap();
        assert_eq!(rf.predict(&VectorRef::Dense(&[2.0])), (1.0 + 0.5) / 2.0);
    }
}
