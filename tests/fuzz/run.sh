#!/bin/sh
# Run the plan-loader fuzzer for a bounded time: run.sh FUZZER SECONDS.
# Seeds come from tests/fuzz/corpus (kept in git) and the demo plan; what
# the fuzzer learns goes to build-fuzz/corpus (not kept).  A crash leaves
# its reproducer as crash-* in the current folder and fails the run.
set -eu
FUZZER=$1
SECONDS_=${2:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$ROOT/build-fuzz/corpus
mkdir -p "$WORK"
cp "$ROOT"/tests/fuzz/corpus/* "$WORK"/ 2>/dev/null || true
cp "$ROOT"/demo/plan.yaml.in "$WORK"/demo-plan.yaml
export ASAN_OPTIONS=detect_leaks=1
export LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp
"$FUZZER" -max_total_time="$SECONDS_" -max_len=16384 -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 "$WORK"
