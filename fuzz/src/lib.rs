//! Fuzz targets for ember's parsers of untrusted input, on the stable toolchain.
//!
//! Each target is a `fn(&[u8])` that feeds the bytes to one parser and **panics** when an
//! invariant breaks (beyond "no panic": client errors are 4xx, messages are bounded, parsed
//! values agree with an independent reading). The same functions run
//!
//! * under `cargo test` (`fuzz/tests/bounded.rs`): every seed of `fuzz/corpus/<target>/` and
//!   every regression input of `fuzz/regressions/<target>/`, then a fixed-count, seeded random
//!   mutation loop ([`mutate`]) — a few seconds per target, part of `cargo test --workspace`;
//! * under AFL++ (`src/bin/ember-afl.rs`, built by `cargo afl build --features afl`), in
//!   persistent mode, for the long campaigns (see `fuzz/README.md`).
//!
//! | target | parser |
//! | --- | --- |
//! | [`body`] | a request body (CSV, JSON, JSON lines) → `parse_body` → schema → `build_batch` → evaluate → render |
//! | [`vector`] | Spark's vector text → `ember_udfs::cast::parse_vector` |
//! | [`schema`] | `SAGEMAKER_SPARKML_SCHEMA` JSON → `Prepared::new` against two models |
//! | [`mleap`] | an MLeap bundle (zip in memory, tar/tar.gz via a temp file, or a file list) → `mleap::load` |
//! | [`spark`] | a Spark `PipelineModel` directory (metadata JSON, optional Parquet data) → `spark::load` |

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ember_engine::Pipeline;
use ember_server::serve::contract::Prepared;
use ember_udfs::shown::Shown;

pub mod files;
pub mod mutate;
mod targets;

pub use targets::{body, mleap, schema, spark, vector};

/// The longest error message a target accepts: messages name what was wrong and quote input
/// through `Shown` (≤ 100 characters a value), so a longer one is echoing input unbounded.
pub const MAX_MESSAGE: usize = 2048;

/// A fuzz target: its name (the corpus folder's) and its function.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Name, as given to `ember-afl` and used for `fuzz/corpus/<name>/`.
    pub name: &'static str,
    /// Runs one input; panics when an invariant breaks.
    pub run: fn(&[u8]),
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "body",
        run: body,
    },
    Target {
        name: "vector",
        run: vector,
    },
    Target {
        name: "schema",
        run: schema,
    },
    Target {
        name: "mleap",
        run: mleap,
    },
    Target {
        name: "spark",
        run: spark,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The repository root (where `examples/` and `tests/fixtures/` are).
pub fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `fuzz/corpus/<target>/`.
pub fn corpus_dir(target: &str) -> PathBuf {
    repo_root().join("fuzz/corpus").join(target)
}

/// `fuzz/regressions/<target>/`: minimised inputs that once broke an invariant.
pub fn regressions_dir(target: &str) -> PathBuf {
    repo_root().join("fuzz/regressions").join(target)
}

/// A model the targets score against, with its prepared default schema.
#[derive(Debug)]
pub struct Model {
    /// Short name.
    pub name: &'static str,
    /// The loaded pipeline.
    pub pipeline: Pipeline,
    /// The default schema (as `SAGEMAKER_SPARKML_SCHEMA` would give it), prepared.
    pub prepared: Prepared,
}

/// The car-evaluation example's schema: six strings in, a string label out.
const CAR_SCHEMA: &str = include_str!("../../examples/car-evaluation/schema.json");

/// `demo.zip` with an input column of every type and shape besides the model's three doubles.
pub const DEMO_ALL_TYPES: &str = r#"{"input":[{"name":"demo:a","type":"double"},{"name":"demo:c","type":"double"},{"name":"demo:d","type":"double"},{"name":"b","type":"boolean"},{"name":"i8","type":"byte"},{"name":"i16","type":"short"},{"name":"i32","type":"int"},{"name":"i64","type":"long"},{"name":"f32","type":"float"},{"name":"s","type":"string"},{"name":"v","type":"double","struct":"vector"},{"name":"ai","type":"int","struct":"array"},{"name":"as","type":"string","struct":"array"}],"output":{"name":"demo:prediction","type":"double"}}"#;

/// `demo.zip` answering its assembled vector column.
pub const DEMO_VECTOR_OUT: &str = r#"{"input":[{"name":"demo:a","type":"double"},{"name":"demo:c","type":"double"},{"name":"demo:d","type":"double"}],"output":{"name":"unscaled_continuous_features","type":"double","struct":"vector"}}"#;

/// The models, loaded once per process: car-evaluation (Spark directory) with its schema,
/// `demo.zip` with [`DEMO_ALL_TYPES`], and `demo.zip` with [`DEMO_VECTOR_OUT`].
pub fn models() -> &'static [Model] {
    static MODELS: OnceLock<Vec<Model>> = OnceLock::new();
    MODELS.get_or_init(|| {
        let root = repo_root();
        let car = Pipeline::load(root.join("examples/car-evaluation/model"))
            .expect("examples/car-evaluation/model loads");
        let demo = Pipeline::load(root.join("tests/fixtures/mleap-upstream/demo.zip"))
            .expect("demo.zip loads");
        let prepare = |p: &Pipeline, s: &str| {
            Prepared::new(
                p,
                s,
                ember_server::serve::contract::DEFAULT_MAX_SCHEMA_COLUMNS,
            )
            .expect("fixed schema prepares")
        };
        vec![
            Model {
                name: "car-evaluation",
                prepared: prepare(&car, CAR_SCHEMA),
                pipeline: car,
            },
            Model {
                name: "demo-all-types",
                prepared: prepare(&demo, DEMO_ALL_TYPES),
                pipeline: demo.clone(),
            },
            Model {
                name: "demo-vector-out",
                prepared: prepare(&demo, DEMO_VECTOR_OUT),
                pipeline: demo,
            },
        ]
    })
}

/// A failure already reported and owned elsewhere: the bounded run lists it instead of failing
/// (unless `EMBER_FUZZ_STRICT=1`); AFL still reports it as a crash. Remove an entry once its fix
/// has landed, and its regression inputs (`fuzz/regressions/<target>/`) then guard the fix.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    /// The target.
    pub target: &'static str,
    /// A substring of the panic message.
    pub message: &'static str,
    /// What it is and who owns the fix.
    pub note: &'static str,
}

/// Failures known on this branch's base (issue #11), see [`Known`].
pub const KNOWN: &[Known] = &[];

/// The known failure a panic message of `target` matches, if any.
pub fn known(target: &str, message: &str) -> Option<&'static Known> {
    KNOWN
        .iter()
        .find(|k| k.target == target && message.contains(k.message))
}

/// Panics unless `message` is at most [`MAX_MESSAGE`] bytes.
pub fn bounded_message(what: &str, message: &str) {
    assert!(
        message.len() <= MAX_MESSAGE,
        "{what}: a {}-byte error message (limit {MAX_MESSAGE}): {}",
        message.len(),
        Shown(message)
    );
}
