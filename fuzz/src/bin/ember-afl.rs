//! The AFL++ harness: `ember-afl <target>` runs one target of [`ember_fuzz::TARGETS`] in AFL's
//! persistent mode. Built only by `cargo afl build --features afl` (see fuzz/README.md).

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(target) = ember_fuzz::target(&name) else {
        let names: Vec<&str> = ember_fuzz::TARGETS.iter().map(|t| t.name).collect();
        eprintln!("usage: ember-afl <{}>", names.join("|"));
        std::process::exit(2);
    };
    // load the models before the fork server starts, so each run does not pay for it
    ember_fuzz::models();
    let run = target.run;
    afl::fuzz!(|data: &[u8]| run(data));
}
