//! Real MLeap bundles with the numeric feature ops (../shared/fixtures/mleap, written by MLeap
//! itself), loaded through the MLeap front end.

mod common;

use std::sync::Arc;

use arrow::array::{Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use common::root;
use ember::Pipeline;
use ember_udfs::vector::{VectorArray, VectorRef};

/// MLeap 0.16's min_max_scaler writes only the fitted `min`/`max` tensors, no
/// `minValue`/`maxValue`: the target range is Spark's default `[0, 1]`.
#[test]
fn min_max_scaler_bundle_without_range_scales_to_unit_interval() {
    let bundle = root().join("../shared/fixtures/mleap/min_max_scaler_tf.zip");
    let pipeline = Pipeline::load(&bundle).unwrap();
    assert_eq!(pipeline.stages().len(), 2);
    let schema = Arc::new(Schema::new(vec![
        Field::new("dti", DataType::Float64, true),
        Field::new("loan_amount", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Float64Array::from(vec![16122.995, -0.01])),
            Arc::new(Float64Array::from(vec![600_250.0, 1_200_000.0])),
        ],
    )
    .unwrap();
    let out = pipeline.transform_batch(&batch).unwrap();
    let scaled = out.column_by_name("scaled_features").unwrap();
    let v = VectorArray::try_new(scaled.as_ref()).unwrap();
    // (x - min) / (max - min) with the bundle's min = [-0.01, 500], max = [32256, 1200000]
    let expect0 = [
        (16122.995 + 0.01) * (1.0 / (32256.0 + 0.01)),
        (600_250.0 - 500.0) * (1.0 / (1_200_000.0 - 500.0)),
    ];
    match v.value(0).unwrap().unwrap() {
        VectorRef::Dense(x) => {
            for (a, b) in x.iter().zip(expect0) {
                assert!((a - b).abs() < 1e-12, "{a} vs {b}");
            }
        }
        other => panic!("expected a dense vector, got {other:?}"),
    }
    // the ends of the fitted range map to 0 and 1; `compressed` keeps two elements dense
    assert_eq!(v.value(1).unwrap(), Some(VectorRef::Dense(&[0.0, 1.0])));
}

/// Extracts `spark-parity/<spec>.zip` (one of MLeap's own parity-test bundles, MLeap 0.8) from
/// the shared spark-parity.zip into `dir` and loads it.
fn parity_bundle(spec: &str, dir: &std::path::Path) -> Pipeline {
    use std::io::Read;
    let outer =
        std::fs::File::open(root().join("../shared/fixtures/mleap/spark-parity.zip")).unwrap();
    let mut outer = zip::ZipArchive::new(outer).unwrap();
    let mut bytes = Vec::new();
    outer
        .by_name(&format!("spark-parity/{spec}.zip"))
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    let path = dir.join(format!("{spec}.zip"));
    std::fs::write(&path, bytes).unwrap();
    Pipeline::load(&path).unwrap_or_else(|e| panic!("{spec}: {e}"))
}

/// MLeap 0.8 bundles of every numeric op (legacy `input_shape`, `null` infinite splits,
/// `named_indices`, `int`/`long` sizes) load through the MLeap front end.
#[test]
fn mleap_parity_bundles_of_the_numeric_ops_load() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "org.apache.spark.ml.parity.feature.BinarizerParitySpec",
            "Binarizer",
        ),
        (
            "org.apache.spark.ml.parity.feature.BucketizerParitySpec",
            "Bucketizer",
        ),
        (
            "org.apache.spark.ml.parity.feature.ElementWiseProductParitySpec",
            "ElementwiseProduct",
        ),
        (
            "org.apache.spark.ml.parity.feature.IDFParitySpec",
            "IDFModel",
        ),
        (
            "org.apache.spark.ml.parity.feature.MaxAbsScalerParitySpec",
            "MaxAbsScalerModel",
        ),
        (
            "org.apache.spark.ml.parity.feature.MinMaxScalerParitySpec",
            "MinMaxScalerModel",
        ),
        (
            "org.apache.spark.ml.parity.feature.NormalizerParitySpec",
            "Normalizer",
        ),
        (
            "org.apache.spark.ml.parity.feature.PolynomialExpansionParitySpec",
            "PolynomialExpansion",
        ),
        (
            "org.apache.spark.ml.parity.feature.VectorSlicerParitySpec",
            "VectorSlicer",
        ),
        (
            "org.apache.spark.ml.parity.classification.NaiveBayesClassifierParitySpec",
            "NaiveBayesModel",
        ),
    ];
    for (spec, class) in cases {
        let p = parity_bundle(spec, dir.path());
        assert!(
            p.stages()
                .iter()
                .any(|s| ember::stage::short_class(s.class()) == class),
            "{spec}: no {class} stage"
        );
    }
}

/// The Bucketizer parity bundle writes its infinite outer splits as `null`: they read back as
/// -∞ and +∞, so every finite value has a bucket.
#[test]
fn bucketizer_bundle_restores_infinite_splits() {
    let dir = tempfile::tempdir().unwrap();
    let p = parity_bundle(
        "org.apache.spark.ml.parity.feature.BucketizerParitySpec",
        dir.path(),
    );
    let schema = Arc::new(Schema::new(vec![Field::new(
        "loan_amount",
        DataType::Float64,
        true,
    )]));
    let batch = RecordBatch::try_new(
        schema,
        vec![Arc::new(Float64Array::from(vec![
            -1e300, 999.0, 1000.0, 9999.5, 10000.0, 1e300,
        ]))],
    )
    .unwrap();
    let out = p.transform_batch(&batch).unwrap();
    let b = out
        .column_by_name("loan_amount_bucket")
        .unwrap()
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap()
        .values()
        .to_vec();
    assert_eq!(b, vec![0.0, 0.0, 1.0, 1.0, 2.0, 2.0]);
}
