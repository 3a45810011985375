#!/bin/sh
# Run a fuzzer for a bounded time: run.sh FUZZER SECONDS.
# Seeds come from git (tests/fuzz/corpus for fuzz-plan, with the demo plan;
# tests/fuzz/corpus-NAME for fuzz-NAME); what the fuzzer learns goes to
# build-fuzz/corpus[-NAME] (not kept).  A crash leaves its reproducer as
# crash-* in the current folder and fails the run.
set -eu
FUZZER=$1
SECONDS_=${2:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NAME=$(basename "$FUZZER")
if [ "$NAME" = fuzz-plan ]; then
    WORK=$ROOT/build-fuzz/corpus
    mkdir -p "$WORK"
    cp "$ROOT"/tests/fuzz/corpus/* "$WORK"/ 2>/dev/null || true
    cp "$ROOT"/demo/plan.yaml.in "$WORK"/demo-plan.yaml
else
    WORK=$ROOT/build-fuzz/corpus-${NAME#fuzz-}
    mkdir -p "$WORK"
    cp "$ROOT"/tests/fuzz/corpus-"${NAME#fuzz-}"/* "$WORK"/ 2>/dev/null || true
fi
export ASAN_OPTIONS=detect_leaks=1
export LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp
"$FUZZER" -max_total_time="$SECONDS_" -max_len=16384 -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 "$WORK"
