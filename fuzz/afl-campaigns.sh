#!/usr/bin/env bash
# The long AFL++ campaigns, one target at a time (2 shared cores: one afl-fuzz at a time, nice 19).
# Each runs until EXECS executions (afl-fuzz -E; default 10 million) or MAX_SECONDS (-V), and
# resumes where it stopped when run again (AFL_AUTORESUME). Needs `cargo install cargo-afl`.
#   fuzz/afl-campaigns.sh                    # all targets
#   TARGETS="body spark" fuzz/afl-campaigns.sh
# Findings: $OUT/<target>/default/{fuzzer_stats,crashes/,hangs/,queue/}.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${AFL_TARGET_DIR:-$PWD/target-afl}"
# the dev profile at opt-level 1: a reasonable build time for an instrumented DataFusion, and
# debug assertions and overflow checks stay on (they are invariants too)
export CARGO_PROFILE_DEV_OPT_LEVEL="${OPT_LEVEL:-1}"
nice -n 19 cargo afl build -p ember-fuzz --features afl --bin ember-afl
OUT="${OUT:-$CARGO_TARGET_DIR/campaigns}"
mkdir -p "$OUT"
EXECS="${EXECS:-10000000}"
MAX_SECONDS="${MAX_SECONDS:-36000}"
for t in ${TARGETS:-vector schema body mleap spark}; do
    echo "== $t: up to $EXECS executions or $MAX_SECONDS s, in $OUT/$t"
    AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_AUTORESUME=1 \
        nice -n 19 cargo afl fuzz -i "fuzz/corpus/$t" -o "$OUT/$t" -x fuzz/afl.dict \
        -m 4096 -t 2000 -E "$EXECS" -V "$MAX_SECONDS" \
        -- "$CARGO_TARGET_DIR/debug/ember-afl" "$t" || echo "afl-fuzz for $t stopped: $?"
    grep -E '^(execs_done|execs_per_sec|saved_crashes|saved_hangs|corpus_count|run_time)' \
        "$OUT/$t/default/fuzzer_stats" || true
done
