//! Replays inputs through a target without AFL: `ember-fuzz-replay <target> <file>..` runs
//! each file and prints whether it held; the exit status is 1 when any input broke an
//! invariant (panicked). For reproducing a crash that `afl-fuzz` saved, or checking a fix.

use std::panic::{AssertUnwindSafe, catch_unwind};

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_default();
    let Some(target) = ember_fuzz::target(&name) else {
        let names: Vec<&str> = ember_fuzz::TARGETS.iter().map(|t| t.name).collect();
        eprintln!("usage: ember-fuzz-replay <{}> <file>..", names.join("|"));
        std::process::exit(2);
    };
    let mut broke = false;
    for file in args {
        let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let held = catch_unwind(AssertUnwindSafe(|| (target.run)(&data))).is_ok();
        println!("{file}: {}", if held { "ok" } else { "BROKE AN INVARIANT" });
        broke |= !held;
    }
    std::process::exit(i32::from(broke));
}
