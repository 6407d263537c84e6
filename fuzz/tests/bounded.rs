//! The bounded fuzz run, part of `cargo test --workspace`: for each target, every seed of
//! `fuzz/corpus/<target>/` and every input of `fuzz/regressions/<target>/`, then a fixed
//! number of seeded random mutations of the seeds — through the same functions the AFL
//! harness calls. A failing input is written to the test's temp dir and named in the failure.
//! Failures listed in `ember_fuzz::KNOWN` (reported, owned elsewhere) are counted and shown,
//! not failed, unless `EMBER_FUZZ_STRICT=1`.
//!
//! `EMBER_FUZZ_ITERS` (mutations per target; default per target below) and `EMBER_FUZZ_SEED`
//! (default fixed) change the run, e.g. for a longer local run without AFL.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Once;

use ember_fuzz::mutate::{Rng, mutate};
use ember_fuzz::{Target, corpus_dir, known, regressions_dir, target};

fn inputs(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, Vec<u8>)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_none_or(|n| n != "README.md"))
        .map(|p| {
            let bytes = std::fs::read(&p).expect("a readable corpus file");
            (p, bytes)
        })
        .collect();
    out.sort();
    out
}

thread_local! {
    /// Set while a target runs: its panics are reported by the run, not by the panic hook.
    static IN_TARGET: Cell<bool> = const { Cell::new(false) };
}

/// Silences the panic hook inside targets (thousands of known failures would flood stderr).
fn quiet_targets() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_TARGET.with(Cell::get) {
                default(info);
            }
        }));
    });
}

/// The panic message of running `input`, if it panicked.
fn try_one(t: &Target, input: &[u8]) -> Option<String> {
    IN_TARGET.with(|f| f.set(true));
    let outcome = catch_unwind(AssertUnwindSafe(|| (t.run)(input)));
    IN_TARGET.with(|f| f.set(false));
    let panic = outcome.err()?;
    Some(
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    )
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Failures and known failures of one target's run.
#[derive(Default)]
struct Findings {
    failures: Vec<String>,
    known: Vec<String>,
}

impl Findings {
    fn record(&mut self, t: &Target, input: &[u8], label: &str, message: String) {
        let strict = std::env::var("EMBER_FUZZ_STRICT").is_ok_and(|v| v == "1");
        let k = known(t.name, &message).filter(|_| !strict);
        let list = if k.is_some() {
            &mut self.known
        } else {
            &mut self.failures
        };
        if list.len() >= 3 {
            list.push(String::new()); // counted; the first three are kept and saved
            return;
        }
        let saved =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ember-fuzz-{}-{label}", t.name));
        std::fs::write(&saved, input).expect("saving the failing input");
        let mut report = format!(
            "{}: {label} broke an invariant: {message}\n  input saved to {}",
            t.name,
            saved.display()
        );
        if let Some(k) = k {
            report.push_str(&format!("\n  known: {}", k.note));
        }
        list.push(report);
    }
}

fn run(name: &str, default_iters: u64, max_len: usize) {
    quiet_targets();
    let t = target(name).expect("a target");
    let seeds = inputs(&corpus_dir(name));
    let regressions = inputs(&regressions_dir(name));
    assert!(
        !seeds.is_empty(),
        "{name}: no seeds in {}",
        corpus_dir(name).display()
    );
    let mut found = Findings::default();
    let started = std::time::Instant::now();
    for (path, bytes) in seeds.iter().chain(&regressions) {
        let label = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(m) = try_one(t, bytes) {
            found.record(t, bytes, &label, m);
        }
    }
    let iters = env_u64("EMBER_FUZZ_ITERS").unwrap_or(default_iters);
    let seed = env_u64("EMBER_FUZZ_SEED").unwrap_or(0x0e3b_e7f0);
    let mut rng = Rng::new(seed ^ name.len() as u64);
    let mut done = 0;
    while done < iters && found.failures.len() < 3 {
        let a = &seeds[rng.below(seeds.len())].1;
        let b = &seeds[rng.below(seeds.len())].1;
        let input = mutate(&mut rng, a, b, max_len.max(a.len()));
        if let Some(m) = try_one(t, &input) {
            found.record(t, &input, &format!("mutation-{seed}-{done}"), m);
        }
        done += 1;
    }
    eprintln!(
        "{name}: {} seeds, {} regressions, {done} mutations (seed {seed}) in {:.1} s; {} known \
         failures{}",
        seeds.len(),
        regressions.len(),
        started.elapsed().as_secs_f64(),
        found.known.len(),
        found
            .known
            .first()
            .map(|k| format!(", the first:\n{k}"))
            .unwrap_or_default(),
    );
    let failures: Vec<&str> = found
        .failures
        .iter()
        .map(String::as_str)
        .filter(|f| !f.is_empty())
        .collect();
    assert!(found.failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn body() {
    run("body", 20_000, 4096);
}

#[test]
fn vector() {
    run("vector", 100_000, 512);
}

#[test]
fn schema() {
    run("schema", 30_000, 4096);
}

#[test]
fn mleap() {
    run("mleap", 3_000, 64 << 10);
}

#[test]
fn spark() {
    run("spark", 2_000, 64 << 10);
}
