#!/usr/bin/env bash
# ember serve vs a bare axum handler returning a constant, on loopback, with wrk.
#
#   benches/http_side_by_side.sh            # needs wrk (Debian: apt-get install wrk)
#
# One CSV record per request (the car-evaluation example; output predicted_class). Concurrency
# 1 (one connection) for latency, concurrency 64 for throughput; ember with request coalescing
# off and on. Prints a table: p50, p99, requests/s, and ember's ratio to the bare floor, as
# medians of REPEAT (default 3) interleaved rounds; DURATION (default 10s, in seconds) per run.
# cpu/req is the server process's CPU time (user + system) per request served.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
REPEAT=${REPEAT:-3}
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)"; exit 1; }
cargo build --release -q -p ember-server --bin ember && cargo build --release -q -p http-floor
TARGET=${CARGO_TARGET_DIR:-target}
EMBER=$TARGET/release/ember
BARE=$TARGET/release/http-floor
ROW='low,med,4,2,big,high'
export SAGEMAKER_SPARKML_SCHEMA='{"input":[{"name":"buying","type":"string"},{"name":"maint","type":"string"},{"name":"doors","type":"string"},{"name":"persons","type":"string"},{"name":"lug_boot","type":"string"},{"name":"safety","type":"string"}],"output":{"name":"predicted_class","type":"string"}}'
LUA=$(mktemp --suffix .lua)
cat > "$LUA" <<LUA
wrk.method = "POST"
wrk.body = "$ROW"
wrk.headers["Content-Type"] = "text/csv"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.1f %.0f %d\n", latency:percentile(50), latency:percentile(99),
    summary.requests / (summary.duration / 1e6), summary.errors.status + summary.errors.connect + summary.errors.read))
end
LUA
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -f "$LUA"; }
trap cleanup EXIT

wait_port() { for _ in $(seq 1 500); do curl -s -o /dev/null "http://127.0.0.1:$1/$2" && return 0; sleep 0.01; done; return 1; }

start_ms() { date +%s%3N; }
t0=$(start_ms)
$BARE 18081 & pids+=($!)
$EMBER serve --model examples/car-evaluation/model --host 127.0.0.1 --port 18082 --coalesce off 2>/dev/null & pids+=($!)
t1=$(start_ms); $EMBER serve --model examples/car-evaluation/model --host 127.0.0.1 --port 18083 --coalesce 0 2>/dev/null & pids+=($!)
wait_port 18083 ping; startup=$(( $(start_ms) - t1 ))
wait_port 18082 ping; wait_port 18081 invocations || true
curl -s -X POST -H 'Content-Type: text/csv' --data "$ROW" http://127.0.0.1:18082/invocations >/dev/null

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system time of a process
run() { # name port threads connections pid
  local before out after
  before=$(cpu_ticks "$5")
  out=$(wrk -t"$3" -c"$4" -d"$DURATION" --latency -s "$LUA" "http://127.0.0.1:$2/invocations" | grep RESULT)
  after=$(cpu_ticks "$5")
  # the server's CPU time per request (µs): what the ratio to the floor comes down to
  local rps; rps=$(echo "$out" | awk '{print $4}')
  local secs; secs=$(echo "$DURATION" | tr -d s)
  local cpu_us; cpu_us=$(echo "($after - $before) / $(getconf CLK_TCK) / ($rps * $secs) * 1000000" | bc -l)
  echo "$1 $4 $out $(printf %.1f "$cpu_us")"
}
results=()
# REPEAT rounds, interleaved (bare, ember, ember-coalesce), so drift on a shared machine hits all
# three alike; the table shows the median of each figure and every round's ratio to the floor
for rep in $(seq 1 "$REPEAT"); do
  for c in 1 64; do
    t=$([ "$c" = 1 ] && echo 1 || echo 2)
    results+=("$(run bare 18081 $t $c "${pids[0]}")")
    results+=("$(run ember 18082 $t $c "${pids[1]}")")
    results+=("$(run ember-coalesce 18083 $t $c "${pids[2]}")")
  done
done
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
field() { # name conc column(4=p50 5=p99 6=rps 7=errors 8=server CPU µs/request)
  printf "%s\n" "${results[@]}" | awk -v n="$1" -v c="$2" -v k="$3" '$1==n && $2==c {print $k}'
}
echo
echo "car-evaluation, 1 CSV record per request, loopback, $(nproc) cores shared by server and wrk,"
echo "$DURATION per run, median of $REPEAT interleaved rounds"
printf "%-16s %4s %10s %10s %12s %8s %9s   %s\n" server conc "p50 (us)" "p99 (us)" "req/s" "vs bare" "cpu/req" "rounds (vs bare)"
for c in 1 64; do
  bare_rps=$(field bare "$c" 6 | median)
  bare_each=($(field bare "$c" 6))
  for name in bare ember ember-coalesce; do
    each=($(field "$name" "$c" 6))
    ratios=""
    for i in "${!each[@]}"; do
      ratios+="$(printf "%.0f%% " "$(echo "100*${each[$i]}/${bare_each[$i]}" | bc -l)")"
    done
    printf "%-16s %4s %10s %10s %12.0f %7.0f%% %7s us   %s\n" "$name" "$c" \
      "$(field "$name" "$c" 4 | median)" "$(field "$name" "$c" 5 | median)" \
      "$(field "$name" "$c" 6 | median)" \
      "$(echo "100*$(field "$name" "$c" 6 | median)/$bare_rps" | bc -l)" \
      "$(field "$name" "$c" 8 | median)" "$ratios"
    errs=$(field "$name" "$c" 7 | awk '{s+=$1} END {print s+0}')
    [ "$errs" = 0 ] || echo "  ($errs errors)"
  done
done
echo "ember start-up (process start to first /ping 200): ${startup} ms"
