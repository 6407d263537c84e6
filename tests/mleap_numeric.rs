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
