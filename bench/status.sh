#!/bin/sh
# Benchmark golive status and report on runs of 1,000, 10,000 and 20,000
# tasks, each depending on 1 to 5 earlier ones: CPU and wall time (medians
# of interleaved runs, everything each command loads included) and peak
# memory, and how the time grows with the number of tasks.  The target is
# a text status of a 10,000-task run under 100 ms, growing linearly.
# Prints figures; asserts nothing.
#   bench/status.sh [RUNS] [SIZES]     (default 5 runs; "1000 10000 20000")
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
sh "$ROOT/tools/deps.sh" python3
[ -x "$ROOT/build/golive" ] || make -C "$ROOT" build
exec /usr/bin/python3 "$ROOT/bench/status_bench.py" "$ROOT/build/golive" \
    "${1:-5}" ${2:-1000 10000 20000}
