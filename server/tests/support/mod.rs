//! Plumbing shared by every process-level test of the `ember` binary (each file in
//! server/tests declares `mod support;`): the example model's paths, bounded runs of the
//! binary ([`run`]), a spawned `ember serve` killed when dropped ([`serve`]) and a raw-socket
//! HTTP/1.1 client ([`client`]).
//!
//! The Spark-parity helpers stay in tests/common/mod.rs, which the root crate's tests share;
//! it is included here as [`common`] so that one `mod support;` brings both.
//!
//! Parallel safety: every spawned server listens on a port of its own (`--port 0`, the bound
//! address read from its log, or a free port when a test needs to name it), and every file a
//! run writes goes into a temporary directory of its own.
// each test file uses a part of this module
#![allow(dead_code, unused_imports)]

#[path = "../../../tests/common/mod.rs"]
pub mod common;

mod client;
mod run;
mod serve;

use std::path::PathBuf;

pub use client::*;
pub use common::{copy_dir, metadata_part, root};
pub use run::*;
pub use serve::*;

/// The car-evaluation example's model (examples/car-evaluation/model, the SageMaker pipeline
/// shape the README scores; the same files as tests/fixtures/spark/car_evaluation/model).
pub fn car_model() -> PathBuf {
    root().join("examples/car-evaluation/model")
}

/// The car-evaluation example's input: a header and 200 rows.
pub fn car_input() -> PathBuf {
    root().join("examples/car-evaluation/input.csv")
}

/// The car-evaluation example's SageMaker schema JSON (predicted_class as a string).
pub fn car_schema() -> String {
    std::fs::read_to_string(root().join("examples/car-evaluation/schema.json")).unwrap()
}

/// MLeap's demo bundle (tests/fixtures/mleap-upstream/demo.zip).
pub fn demo_bundle() -> PathBuf {
    root().join("tests/fixtures/mleap-upstream/demo.zip")
}

/// The car-evaluation input columns, in the model's order.
pub const CAR_HEADER: &str = "buying,maint,doors,persons,lug_boot,safety";

/// One car-evaluation record the model scores.
pub const CAR_ROW: &str = "low,med,4,2,big,high";
