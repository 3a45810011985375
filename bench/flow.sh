#!/bin/sh
# Benchmark golive flow on a 1,000,000-record table in PostgreSQL against
# the floor it is measured by: SELECT state, count(*) ... GROUP BY state on
# the same table.  Prints medians of interleaved runs and the ratio.
#   bench/flow.sh [ROWS] [RUNS]          (default 1000000 rows, 5 runs)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
sh "$ROOT/tools/deps.sh" postgresql postgresql-client python3
[ -x "$ROOT/build/golive" ] || make -C "$ROOT" build
exec /usr/bin/python3 "$ROOT/bench/flow_bench.py" "$ROOT/build/golive" "${1:-1000000}" "${2:-5}"
